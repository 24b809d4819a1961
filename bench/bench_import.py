"""Import benchmark: a people roster of a million rows into a fresh SQLite file and a fresh PostgreSQL database.

The roster (CSV, UTF-8, the import's Chinese headers) is generated once: valid ID numbers over the
real Shanxi counties (``core.citizen_id.generate_many``), the county as its name, categories, labour
capacity and a mobile phone; random ID numbers repeat now and then, as real rosters' do, and those
rows are refused as repeats. Per back end and run, a fresh database is created and migrated (not
timed), then a fresh interpreter calls the service (``registry.imports.importer.import_file``) and is timed
from the call to its return; a second fresh interpreter imports the same file again into the now
full database (every row unchanged). Then the CLI (``bangfu import people FILE --json``) is timed
once end to end on another fresh database, Python start-up included. Peak RSS: the importing
process (``ru_maxrss``) and, separately, the worker process that reads the file (its child).

``--layout national`` generates and imports a download of the national monitoring system's person
table instead (``national_rows.py``: title row, 50 columns, households of one to five members), through
the same ``import people`` service; its target is 90 s.

Usage:
  .venv/bin/python bench/bench_import.py --rows 1000000 --runs 3 --backends sqlite postgresql \
      --file bench/out/import/people-1m.csv --json-out bench/out/import.json
  .venv/bin/python bench/bench_import.py --layout national --rows 1000000 --runs 1 \
      --file bench/out/import/national-1m.csv --json-out bench/out/import-national.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fresh_databases import migrate
from national_rows import generate_national
from provenance import code_version, machine

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WALL_TARGET_S = 60.0
NATIONAL_WALL_TARGET_S = 90.0
RSS_TARGET_MB = 2048.0
HEADER = "姓名,身份证号,户籍所在县,人员类别,劳动能力,联系电话"
NAMES = ("张伟", "王芳", "李娜", "刘强", "郭晋生", "赵丽", "杨磊", "武海", "贾秀英", "郝建国", "王 平", "李  军")
CATEGORIES = ("脱贫人口", "边缘易致贫人口", "脱贫人口、易地搬迁", "防返贫监测对象", "农村低收入人口", "脱贫劳动力")
CAPACITIES = ("全劳力", "弱劳力", "半劳力", "全劳动力")
CHUNK = 200_000


def generate(path: Path, rows: int, seed: int) -> dict[str, Any]:
    """Write the roster unless one of the same size and seed is there; returns its description."""
    import numpy as np

    from bangfu.core import citizen_id, regions

    stamp = path.with_suffix(".json")
    wanted = {"rows": rows, "seed": seed}
    if path.exists() and stamp.exists():
        recorded: dict[str, Any] = json.loads(stamp.read_text())
        if {key: recorded.get(key) for key in wanted} == wanted:
            return recorded
    path.parent.mkdir(parents=True, exist_ok=True)
    # Counties whose name alone is unambiguous in Shanxi (城区, 矿区, 郊区 exist twice), as rosters write them.
    counties = [
        c for c in regions.shanxi_counties() if not c.statistics_only and c.name not in ("城区", "矿区", "郊区")
    ]
    codes = np.array([c.code for c in counties])
    names = [c.name for c in counties]
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(HEADER + "\n")
        for first in range(0, rows, CHUNK):
            n = min(CHUNK, rows - first)
            county = rng.integers(0, len(codes), n)
            born = rng.integers(np.datetime64("1960-01-01").astype(int), np.datetime64("2005-12-31").astype(int), n)
            ids = citizen_id.generate_many(rng, codes[county], born.astype("datetime64[D]"), rng.random(n) < 0.5)
            columns = zip(
                rng.integers(0, len(NAMES), n).tolist(),
                ids.tolist(),
                county.tolist(),
                rng.integers(0, len(CATEGORIES), n).tolist(),
                rng.integers(0, len(CAPACITIES), n).tolist(),
                rng.integers(13_000_000_000, 19_999_999_999, n).tolist(),
                strict=True,
            )
            out.write(
                "".join(
                    f"{NAMES[a]},{b},{names[c]},{CATEGORIES[d]},{CAPACITIES[e]},{f}\n" for a, b, c, d, e, f in columns
                )
            )
    described = {**wanted, "bytes": path.stat().st_size, "generate_s": round(time.perf_counter() - started, 1)}
    stamp.write_text(json.dumps(described, indent=2))
    return described


def fresh_database(backend: str, server: str, name: str) -> str:
    """A new, migrated, empty database (SQLite: a new file in a temporary folder)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        url = f"sqlite:///{(Path(tempfile.mkdtemp(prefix='bangfu_bench_import_')) / f'{name}.db').as_posix()}"
    else:
        admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    return url


def drop(url: str, server: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for path in Path(parsed.database or "").parent.glob("*"):
            path.unlink()
        return
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    admin.dispose()


def rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def child_service(url: str, file: Path, rejects: Path) -> dict[str, Any]:
    """One timed call of the import service (in a fresh interpreter)."""
    from bangfu.registry.imports.importer import import_file
    from bangfu.store.db import make_engine

    engine = make_engine(url)
    started, cpu_started = time.perf_counter(), time.process_time()
    report = import_file(engine, "people", file, rejects)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": rss_mb(resource.RUSAGE_SELF),
        "worker_peak_rss_mb": rss_mb(resource.RUSAGE_CHILDREN),
        # On a shared machine wall time is noisy; CPU seconds of both processes say what the work costs.
        "worker_cpu_s": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
        "rows": report.rows,
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    }


def child_cli(url: str, file: Path, rejects: Path) -> dict[str, Any]:
    """``bangfu import people`` end to end; its peak RSS and its worker's are the largest descendant's."""
    bangfu = Path(sys.executable).with_name("bangfu")
    command = [str(bangfu), "import", "people", str(file), "--json", "--database", url, "--rejects-dir", str(rejects)]
    started = time.perf_counter()
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "peak_rss_mb": rss_mb(resource.RUSAGE_CHILDREN), "summary": json.loads(output.stdout)}


def run_child(arguments: list[str]) -> dict[str, Any]:
    output = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def bench_backend(backend: str, args: argparse.Namespace, rejects: Path) -> dict[str, Any]:
    first: list[dict[str, Any]] = []
    again: list[dict[str, Any]] = []
    for index in range(args.runs):
        url = fresh_database(backend, args.server, f"bangfu_bench_import_{os.getpid()}_{index}")
        try:
            passes = (("first", first),) if args.skip_again else (("first", first), ("again", again))
            for label, runs in passes:
                run = run_child(
                    ["--child", "service", "--url", url, "--file", str(args.file), "--rejects", str(rejects)]
                )
                runs.append(run)
                print(
                    f"{backend} run {index + 1} {label}: {run['wall_s']:.1f} s (CPU {run['cpu_s']:.1f} s), "
                    f"peak RSS {run['peak_rss_mb']:.0f} MB + worker {run['worker_peak_rss_mb']:.0f} MB; "
                    f"inserted {run['inserted']:,}, unchanged {run['unchanged']:,}, rejected {run['rejected']:,}",
                    flush=True,
                )
        finally:
            drop(url, args.server)
    cli: dict[str, Any] = {}
    if not args.skip_cli:
        url = fresh_database(backend, args.server, f"bangfu_bench_import_{os.getpid()}_cli")
        try:
            cli = run_child(["--child", "cli", "--url", url, "--file", str(args.file), "--rejects", str(rejects)])
        finally:
            drop(url, args.server)
        print(
            f"{backend} CLI: {cli['wall_s']:.1f} s, peak RSS {cli['peak_rss_mb']:.0f} MB; {cli['summary']}", flush=True
        )
    wall = statistics.median(r["wall_s"] for r in first)
    rss = max(r["peak_rss_mb"] + r["worker_peak_rss_mb"] for r in first + again)
    again_s = f"{statistics.median(r['wall_s'] for r in again):.1f} s" if again else "not run"
    target = NATIONAL_WALL_TARGET_S if args.layout == "national" else WALL_TARGET_S
    print(
        f"{backend}: median first import {wall:.1f} s ({verdict(wall <= target)}), re-import "
        f"{again_s}; peak RSS importer + worker at most {rss:.0f} MB "
        f"({verdict(rss <= RSS_TARGET_MB)})",
        flush=True,
    )
    return {"first": first, "again": again, "cli": cli}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--file", type=Path, default=Path("bench/out/import/people-1m.csv"))
    parser.add_argument("--backends", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--server", default=SERVER, help="PostgreSQL maintenance database to create databases from")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-again", action="store_true", help="time only the first import of each run")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--layout", choices=("roster", "national"), default="roster")
    parser.add_argument("--child", choices=("service", "cli"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--rejects", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "service":
        print(json.dumps(child_service(args.url, args.file, args.rejects)))
        return 0
    if args.child == "cli":
        print(json.dumps(child_cli(args.url, args.file, args.rejects)))
        return 0

    code = code_version()
    print(f"code {code}; machine {machine()}", flush=True)
    if args.layout == "national":
        args.file.parent.mkdir(parents=True, exist_ok=True)
        roster = generate_national(args.file, args.rows, args.seed)
    else:
        roster = generate(args.file, args.rows, args.seed)
    print(f"roster {args.file}: {roster}", flush=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bangfu_bench_rejects_") as rejects:
        for backend in args.backends:
            results[backend] = bench_backend(backend, args, Path(rejects))
    code_after = code_version()
    if code_after != code:
        print(f"WARNING: the code changed during the benchmark ({code} -> {code_after})")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        summary = {"code": code, "code_after": code_after, "machine": machine(), "arguments": vars(args)}
        summary |= {"roster": roster, "date": dt.date.today().isoformat(), "results": results}
        args.json_out.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
