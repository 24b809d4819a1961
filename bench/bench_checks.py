"""``bangfu check`` on a province-size download, beside a hand-written pandas script.

Generates a synthetic national person-table CSV (``national_synth.py``; not timed), then runs, each
in its own process so that peak RSS is that run's alone (``os.wait4``):
  bangfu-all    bangfu check FILE --json                 (every bundled rule, masked XLSX outputs)
  bangfu-five   the same with every rule but the pandas script's five disabled
  pandas-five   bench/pandas_checks.py FILE              (five rules, unmasked XLSX outputs)
Targets (issue 9): bangfu-all within 60 s and 4 GB peak RSS on 3.3 million rows.

Usage: .venv/bin/python bench/bench_checks.py [--persons 3300000] [--runs 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bangfu.checks.ruleset import load_rules  # noqa: E402
from provenance import code_version, machine  # noqa: E402

FIVE = ("ZJ03", "HU02", "LD03", "WG02", "DH01")
SECONDS_TARGET = 60.0
RSS_TARGET_MB = 4096.0


def timed(command: list[str]) -> dict[str, object]:
    """Wall time, peak RSS and stdout of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {stderr.decode()[-2000:]}")
    return {
        "wall_s": round(wall, 2),
        # CPU seconds are steadier than wall time on a shared machine: they do not count waiting for a core
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "stdout": stdout.decode(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=3_300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="folder for the generated CSV (kept)")
    args = parser.parse_args()

    folder = args.data or Path(tempfile.mkdtemp(prefix="bench-checks-"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"national-{args.persons}.csv"
    if not data.exists():
        started = time.perf_counter()
        # in a child process: Linux counts a parent's peak RSS into every child it forks later
        generate = [sys.executable, str(BENCH_DIR / "national_synth.py"), str(data), str(args.persons)]
        subprocess.run(generate, check=True)
        print(f"generated {data} ({data.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s")
    others = [rule.id for rule in load_rules().rules if rule.id not in FIVE]
    check = [sys.executable, "-m", "bangfu", "check", str(data), "--date", "2024-06-30", "--json"]
    commands = {
        "bangfu-all": [*check, "--out", str(folder / "out-all")],
        "bangfu-five": [*check, "--out", str(folder / "out-five"), *(a for r in others for a in ("--disable", r))],
        "pandas-five": [sys.executable, str(BENCH_DIR / "pandas_checks.py"), str(data), str(folder / "out-pandas")],
    }
    results: dict[str, list[dict[str, object]]] = {name: [] for name in commands}
    for run in range(args.runs):
        for name, command in commands.items():
            out = Path(command[command.index("--out") + 1]) if "--out" in command else folder / "out-pandas"
            shutil.rmtree(out, ignore_errors=True)
            result = timed(command)
            results[name].append(result)
            print(
                f"run {run + 1} {name}: {result['wall_s']} s (CPU {result['cpu_s']} s), "
                f"peak RSS {result['peak_rss_mb']} MB, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    summary: dict[str, object] = {
        "persons": args.persons,
        "file_mib": round(data.stat().st_size / 2**20),
        "runs": args.runs,
        "code": code_version(),
        "machine": machine(),
        "load_average_1m": os.getloadavg()[0],
    }
    for name, runs in results.items():
        summary[name] = {
            "median_wall_s": statistics.median(float(str(r["wall_s"])) for r in runs),
            "max_peak_rss_mb": max(int(str(r["peak_rss_mb"])) for r in runs),
            "walls_s": [r["wall_s"] for r in runs],
            "median_cpu_s": statistics.median(float(str(r["cpu_s"])) for r in runs),
        }
    bangfu_counts = {r["id"]: r["count"] for r in json.loads(str(results["bangfu-all"][0]["stdout"]))["rules"]}
    summary["bangfu_counts_five"] = {rule: bangfu_counts[rule] for rule in FIVE}
    summary["pandas_counts"] = json.loads(str(results["pandas-five"][0]["stdout"]))
    medians = {name: summary[name]["median_wall_s"] for name in results}  # type: ignore[index]
    summary["ratio_pandas_five_over_bangfu_five"] = round(medians["pandas-five"] / medians["bangfu-five"], 2)
    summary["ratio_pandas_five_over_bangfu_all"] = round(medians["pandas-five"] / medians["bangfu-all"], 2)
    all_runs = summary["bangfu-all"]
    summary["targets_met"] = (
        all_runs["median_wall_s"] <= SECONDS_TARGET and all_runs["max_peak_rss_mb"] <= RSS_TARGET_MB  # type: ignore[index]
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
