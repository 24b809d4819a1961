"""Registry benchmarks: a synthetic population into the database, and the stored population evaluated.

load: per run, a fresh database (PostgreSQL: a new database on --server; SQLite: a new file) is
migrated (not timed), then a fresh interpreter does what ``bangfu synth --database URL`` does:
``write_population`` into a temporary folder (timed as generate_s) and ``load_population`` (load_s).
evaluate: on the database the last load filled, a fresh interpreter per run exports the population
of --date (export_s) and evaluates it on DuckDB (evaluate_s), as ``bangfu policy population
--from-database`` does; then the CLI command itself is timed end to end (cli_s, including Python
start-up and loading the policy). Peak RSS is the child's ru_maxrss.

Usage:
  .venv/bin/python bench/bench_store.py --backend postgresql --persons 3300000 --organizations 50000 \
      --load-runs 3 --eval-runs 5 --json-out bench/out/store-pg.json
  .venv/bin/python bench/bench_store.py --backend sqlite --persons 200000 --organizations 3000 \
      --load-runs 5 --eval-runs 5 [--sqlite-sync] --json-out bench/out/store-sqlite.json
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
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from fresh_databases import migrate
from provenance import code_version, machine

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOAD_TARGET_S = 300.0
EVAL_TARGET_S = 60.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_load(url: str, persons: int, organizations: int, year: int, sqlite_sync: bool) -> dict[str, object]:
    from bangfu.store import bulk_sinks
    from bangfu.store.db import make_engine
    from bangfu.synth.population import write_population
    from bangfu.synth.registry_load.load import load_population

    if sqlite_sync:  # for comparison only: keep SQLite's synchronous setting during the load
        bulk_sinks._sqlite_without_sync = lambda connection: nullcontext()
    with tempfile.TemporaryDirectory(prefix="bangfu_bench_") as tmp:
        started = time.perf_counter()
        rows = write_population(Path(tmp), persons, organizations, year=year)
        generated = time.perf_counter()
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                result = load_population(connection, Path(tmp), seed=2021, year=year)
        finally:
            engine.dispose()
        loaded = time.perf_counter()
    return {
        "generate_s": generated - started,
        "load_s": loaded - generated,
        "total_s": loaded - started,
        "peak_rss_mb": peak_rss_mb(),
        "parquet_rows": rows,
        "rows": result.rows,
    }


def child_evaluate(url: str, day: dt.date) -> dict[str, object]:
    from bangfu.batch.duckdb_backend import DuckDBBackend
    from bangfu.policy.batch_run import evaluate_population
    from bangfu.policy.loader import load_bundled
    from bangfu.registry.population_export import export_population
    from bangfu.store.db import make_engine

    policy = load_bundled()
    with tempfile.TemporaryDirectory(prefix="bangfu_bench_") as tmp:
        started = time.perf_counter()
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                exported = export_population(connection, Path(tmp) / "population", day)
        finally:
            engine.dispose()
        middle = time.perf_counter()
        backend = DuckDBBackend()
        run = evaluate_population(policy, backend, Path(tmp) / "population", day)
        backend.close()
        done = time.perf_counter()
    return {
        "export_s": middle - started,
        "evaluate_s": done - middle,
        "total_s": done - started,
        "peak_rss_mb": peak_rss_mb(),
        "rows": exported.rows,
        "entities": {r.entity: r.entities() for r in run.runs},
        "amount_fen": sum(run.by_fund().values()),
    }


@contextmanager
def fresh_database(backend: str, server: str, index: int) -> Iterator[str]:
    """A migrated, empty database; PostgreSQL's is dropped afterwards unless it is the one kept."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bangfu_bench_sqlite_"))
        url = f"sqlite:///{(folder / f'bangfu-{index}.db').as_posix()}"
        migrate(url)
        yield url
        return
    name = f"bangfu_bench_{os.getpid()}_{index}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url


def drop(url: str, server: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    if not url.startswith("postgresql"):
        for path in Path(make_url(url).database or "").parent.glob("bangfu-*.db*"):
            path.unlink()
        return
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    admin.dispose()


def run_child(arguments: list[str]) -> dict[str, object]:
    output = subprocess.run([sys.executable, __file__, *arguments], check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def median(runs: list[dict[str, object]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--server", default=SERVER, help="PostgreSQL maintenance database to create databases from")
    parser.add_argument("--persons", type=int, default=3_300_000)
    parser.add_argument("--organizations", type=int, default=50_000)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date(2024, 6, 30))
    parser.add_argument("--load-runs", type=int, default=3)
    parser.add_argument("--eval-runs", type=int, default=5)
    parser.add_argument("--sqlite-sync", action="store_true", help="keep synchronous on during SQLite loads")
    parser.add_argument("--keep", action="store_true", help="keep the last loaded database")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--child", choices=("load", "evaluate"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "load":
        result = child_load(args.url, args.persons, args.organizations, args.date.year, args.sqlite_sync)
        print(json.dumps(result))
        return 0
    if args.child == "evaluate":
        print(json.dumps(child_evaluate(args.url, args.date)))
        return 0

    code = code_version()
    print(f"code {code}; machine {machine()}", flush=True)
    sizes = ["--persons", str(args.persons), "--organizations", str(args.organizations)]
    sizes += ["--date", args.date.isoformat()] + (["--sqlite-sync"] if args.sqlite_sync else [])
    loads: list[dict[str, object]] = []
    url = ""
    for index in range(args.load_runs):
        if url:
            drop(url, args.server)
        with fresh_database(args.backend, args.server, index) as url:
            run = run_child(["--child", "load", "--url", url, *sizes])
        loads.append(run)
        print(
            f"load {index + 1}: generate {run['generate_s']:.1f} s + load {run['load_s']:.1f} s = "
            f"{run['total_s']:.1f} s, peak RSS {run['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    if loads:
        print(f"rows: {loads[-1]['rows']}")
        total = median(loads, "total_s")
        met = "met" if total <= LOAD_TARGET_S else "MISSED"
        print(f"median load (generate + load) {total:.1f} s, of which load {median(loads, 'load_s'):.1f} s ({met})")

    evaluations: list[dict[str, object]] = []
    cli: list[float] = []
    for index in range(args.eval_runs if url else 0):
        run = run_child(["--child", "evaluate", "--url", url, "--date", args.date.isoformat()])
        evaluations.append(run)
        started = time.perf_counter()
        bangfu = Path(sys.executable).with_name("bangfu")
        command = [str(bangfu), "policy", "population", "--database", url, "--date", args.date.isoformat()]
        subprocess.run(command, check=True, capture_output=True)
        cli.append(time.perf_counter() - started)
        print(
            f"evaluate {index + 1}: export {run['export_s']:.1f} s + evaluate {run['evaluate_s']:.1f} s = "
            f"{run['total_s']:.1f} s, peak RSS {run['peak_rss_mb']:.0f} MB; CLI {cli[-1]:.1f} s",
            flush=True,
        )
    if evaluations:
        total = median(evaluations, "total_s")
        met = "met" if statistics.median(cli) <= EVAL_TARGET_S else "MISSED"
        print(
            f"median export {median(evaluations, 'export_s'):.1f} s,"
            f" evaluate {median(evaluations, 'evaluate_s'):.1f} s, together {total:.1f} s,"
            f" peak RSS {median(evaluations, 'peak_rss_mb'):.0f} MB;"
            f" CLI end to end {statistics.median(cli):.1f} s ({met})"
        )
    if url and not args.keep:
        drop(url, args.server)
    code_after = code_version()
    if code_after != code:
        print(f"WARNING: the code changed during the benchmark ({code} -> {code_after})")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        summary = {"code": code, "code_after": code_after, "machine": machine(), "arguments": vars(args)}
        summary |= {"loads": loads, "evaluations": evaluations, "cli_s": cli}
        args.json_out.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
