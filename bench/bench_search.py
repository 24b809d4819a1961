"""People search within a county on a large registry: p50/p95 server-side time of ``search_people``.

load: a fresh database (PostgreSQL: a new database on --server, kept; SQLite: the --sqlite file) is
migrated and filled as ``bangfu synth --database`` does (generation and load timed, name index included).
measure: on a filled database, each query of QUERIES runs --runs times (after one warm-up) with a county
scope — the county with the most persons and a median one — and a township scope; the time is one
``search_people`` call (count and page, in one read transaction), as the people page makes it.

Usage:
  .venv/bin/python bench/bench_search.py load --backend postgresql --persons 3300000 --name bench_search_3m
  .venv/bin/python bench/bench_search.py measure --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_search_3m \
      --runs 30 --json-out bench/out/search-pg.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fresh_databases import migrate
from provenance import code_version, machine

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# (label, search_people keyword arguments); run in each scope.
QUERIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("list, pinyin order, page 1", {}),
    ("list, pinyin order, page 50 of 100", {"page": 50, "per_page": 100}),
    ("list by birth year", {"sort": "birth_year"}),
    ("list by region, descending", {"sort": "-region"}),
    ("one character 华", {"name": "华"}),
    ("surname 乔", {"name": "乔"}),
    ("surname 王 (most common)", {"name": "王"}),
    ("two characters 建华", {"name": "建华"}),
    ("initials lh", {"name": "lh"}),
    ("initials wjh", {"name": "wjh"}),
    ("surname 李 + category", {"name": "李", "category": "poverty_alleviated"}),
)


def load(args: argparse.Namespace) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from bangfu.store.db import make_engine
    from bangfu.synth.population import write_population
    from bangfu.synth.registry_load.load import load_population

    if args.backend == "postgresql":
        admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{args.name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{args.name}"')
        admin.dispose()
        url = make_url(args.server).set(database=args.name).render_as_string(hide_password=False)
    else:
        Path(args.sqlite).unlink(missing_ok=True)
        url = f"sqlite:///{args.sqlite}"
    migrate(url)
    with tempfile.TemporaryDirectory(prefix="bangfu_bench_") as tmp:
        started = time.perf_counter()
        write_population(Path(tmp), args.persons, args.organizations, year=2024)
        generated = time.perf_counter()
        engine = make_engine(url)
        with engine.connect() as connection:
            result = load_population(connection, Path(tmp), seed=2021, year=2024)
        engine.dispose()
    print(
        json.dumps(
            {"url": url, "generate_s": generated - started, "load_s": result.seconds, "rows": result.rows}, indent=1
        )
    )


def _counties(connection: Any) -> tuple[str, str, str]:
    """(largest county, median county, the largest township of the largest county) by persons."""
    rows = connection.exec_driver_sql(
        "SELECT hukou_region, count(*) FROM persons GROUP BY hukou_region ORDER BY count(*) DESC"
    ).all()
    largest, median = rows[0][0], rows[len(rows) // 2][0]
    township = connection.exec_driver_sql(
        f"SELECT township_code FROM persons WHERE hukou_region = '{largest}' AND township_code IS NOT NULL "
        "GROUP BY township_code ORDER BY count(*) DESC LIMIT 1"
    ).scalar_one()
    return largest, median, township


def _level_column(code: str) -> str:
    return "township_code" if len(code) == 9 else "hukou_region"


def measure(args: argparse.Namespace) -> None:
    from bangfu.access.scope import Scope
    from bangfu.registry.queries import search_people
    from bangfu.store.db import make_engine

    engine = make_engine(args.url)
    with engine.connect() as connection:
        persons = int(connection.exec_driver_sql("SELECT count(*) FROM persons").scalar_one())
        largest, median, township = _counties(connection)
        sizes = {
            code: int(
                connection.exec_driver_sql(
                    f"SELECT count(*) FROM persons WHERE {_level_column(code)} = '{code}'"
                ).scalar_one()
            )
            for code in (largest, median, township)
        }
    results = []
    for scope_code in (largest, median, township):
        scope = Scope.for_region(scope_code)
        for label, kwargs in QUERIES:
            times = []
            for run in range(args.runs + 1):
                with engine.connect() as connection, connection.begin():
                    started = time.perf_counter()
                    page = search_people(connection, scope, **kwargs)
                    elapsed = (time.perf_counter() - started) * 1000
                if run:  # the first is a warm-up
                    times.append(elapsed)
            times.sort()
            row = {
                "scope": scope_code,
                "scope_persons": sizes[scope_code],
                "query": label,
                "found": page.total,
                "p50_ms": statistics.median(times),
                "p95_ms": times[max(0, round(0.95 * len(times)) - 1)],
                "max_ms": times[-1],
            }
            results.append(row)
            print(
                f"{scope_code} ({sizes[scope_code]:,}) {label:38} found {page.total:>7,}  "
                f"p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f} ms",
                flush=True,
            )
    engine.dispose()
    report = {
        "url": engine.url.render_as_string(hide_password=True),
        "persons": persons,
        "runs": args.runs,
        "machine": machine(),
        "code": code_version(),
        "results": results,
    }
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    loading = commands.add_parser("load")
    loading.add_argument("--backend", choices=("postgresql", "sqlite"), required=True)
    loading.add_argument("--persons", type=int, default=3_300_000)
    loading.add_argument("--organizations", type=int, default=5_000)
    loading.add_argument("--server", default=SERVER)
    loading.add_argument("--name", default="bench_search")
    loading.add_argument("--sqlite", default="bench/out/search.sqlite")
    measuring = commands.add_parser("measure")
    measuring.add_argument("--url", required=True)
    measuring.add_argument("--runs", type=int, default=30)
    measuring.add_argument("--json-out")
    args = parser.parse_args()
    {"load": load, "measure": measure}[args.command](args)
    sys.exit(0)


if __name__ == "__main__":
    main()
