"""A 200 MB file must import in bounded memory: nothing in reading or validation may grow with it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from import_support import TODAY, write_people_csv

if not Path("/proc/self/status").exists():
    pytest.skip("peak memory is read from /proc (Linux)", allow_module_level=True)

MEGABYTES = 200
MAX_GROWTH_MB = 150

# Runs in a fresh interpreter so that the peak reflects this import alone. The peak is VmHWM, the
# high-water mark of this process's memory: unlike ru_maxrss it does not carry over the parent's
# peak across fork and exec, and writing 5 to clear_refs resets it after the warm-up.
SCRIPT = textwrap.dedent(
    """
    import itertools, json, sys, time
    from datetime import date
    from pathlib import Path
    from bangfu.registry.imports.headers import accepts, map_columns
    from bangfu.registry.imports.reading import open_table
    from bangfu.registry.imports.rejects import RejectsWriter
    from bangfu.registry.imports.rows import Rejection
    from bangfu.registry.imports.validate import validate_rows

    source, rejects_path, today = Path(sys.argv[1]), Path(sys.argv[2]), date.fromisoformat(sys.argv[3])

    def run(limit):
        records = rejected = 0
        rejects_path.unlink(missing_ok=True)  # a rejects file is always created new
        with open_table(source, header_accepts=accepts("people")) as table:
            columns = map_columns("people", table.header)
            with RejectsWriter(rejects_path, table.header) as out:
                rows = itertools.islice(table.rows(), limit)
                for result in validate_rows(rows, columns, today=today):
                    if isinstance(result, Rejection):
                        out.write(result)
                        rejected += 1
                    else:
                        records += 1
        return records, rejected

    def peak_kib():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    run(1000)  # warm up: imports, region tables, caches
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # then the baseline includes the import's own peak: a smaller, still valid growth
    baseline = peak_kib()
    started = time.perf_counter()
    records, rejected = run(None)
    seconds = time.perf_counter() - started
    peak = peak_kib()
    print(json.dumps({"records": records, "rejected": rejected, "seconds": seconds,
                      "growth_mb": (peak - baseline) / 1024}))
    """
)


@pytest.mark.slow
def test_200_mb_csv_is_read_and_validated_in_bounded_memory(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    rows = write_people_csv(source, megabytes=MEGABYTES, wide=True)
    assert source.stat().st_size >= MEGABYTES * 1_000_000
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(source), str(tmp_path / "rejects.csv"), TODAY.isoformat()],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    # Every row comes out as a record or a rejection (random IDs repeat now and then).
    assert measured["records"] + measured["rejected"] == rows
    assert measured["rejected"] < rows / 1000
    print(
        f"{rows} rows, {measured['seconds']:.1f} s, {rows / measured['seconds']:.0f} rows/s, "
        f"peak RSS growth {measured['growth_mb']:.1f} MB"
    )
    assert measured["growth_mb"] < MAX_GROWTH_MB
