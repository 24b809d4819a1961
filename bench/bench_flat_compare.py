"""Bangfu vs OpenFisca vs hand-written DuckDB SQL on the same flat per-person facts.

Two person benefits of the Shanxi 2021 policy (cross-province transport subsidy, training living
allowance), one row of facts per person. Preparation is not timed: reading the Parquet into numpy
arrays for OpenFisca, and into in-memory DuckDB tables (`flat`, and `persons` shaped for Bangfu's
flat layout) for the two SQL engines. All three run in this process; the SQL ones share one
connection and its settings. Every run checks that the three give identical amounts per person.

Timed:
  bangfu       build_query(...) + con.sql(sql).to_arrow_table()  (a flat fact is a flat column: the
               category is one boolean column, as in the flat facts; --list: a category list instead)
  openfisca    run_openfisca(arrays, year): simulation build, set_input, calculate
  handwritten  con.sql(hand-written query over `flat`).to_arrow_table()

Usage: .venv/bin/python bench/bench_flat_compare.py [--persons 3300000] [--runs 5] [--year 2024]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from bangfu.batch.duckdb_backend import non_null_columns  # noqa: E402
from bangfu.policy.loader import load_bundled  # noqa: E402
from bangfu.policy.model import Policy  # noqa: E402
from bangfu.policy.population import build_query  # noqa: E402
from bangfu.policy.sql import Layout  # noqa: E402
from flat_facts import read_flat_facts, write_flat_facts  # noqa: E402
from openfisca_shanxi import get_tax_benefit_system, run_openfisca  # noqa: E402
from openfisca_shanxi.handwritten import HANDWRITTEN_SQL  # noqa: E402
from provenance import code_version, machine  # noqa: E402

BENEFITS = ("transport_cross_province", "training_living_allowance")
REGION = "141123"  # a Shanxi county; the flat facts say nothing about region
OPENFISCA_RATIO_TARGET = 3.0  # Bangfu at least this many times faster than OpenFisca
HANDWRITTEN_RATIO_TARGET = 2.0  # Bangfu at most this many times the hand-written query

HANDWRITTEN_FLAT_SQL = HANDWRITTEN_SQL.replace("FROM read_parquet($parquet_path)\nORDER BY person_id", "FROM flat")
assert HANDWRITTEN_FLAT_SQL != HANDWRITTEN_SQL, "hand-written query changed shape; update the replacement"


def bangfu_persons_sql(year: int, flags: bool) -> str:
    """The flat facts as Bangfu's person table, employment and training inlined as e_ / t_ columns.

    ``flags``: categories as one boolean column (cat_poverty_alleviated) instead of a list.
    """
    if flags:
        categories = "poverty_alleviated AS cat_poverty_alleviated"
    else:
        categories = "CASE WHEN poverty_alleviated THEN ['poverty_alleviated'] ELSE [] END AS categories"
    return f"""
    CREATE OR REPLACE TABLE persons AS SELECT
        person_id,
        '{REGION}' AS region,
        {categories},
        '{REGION}' AS hukou_region,
        CASE WHEN cross_province_this_year THEN DATE '{year}-01-01' END AS e_start,
        CAST(NULL AS DATE) AS e_end,
        CASE WHEN cross_province_this_year THEN '440305' ELSE '{REGION}' END AS e_work_region,
        FALSE AS e_organized_export,
        travel_cost_fen AS e_travel_cost_fen,
        CASE WHEN training_days > 0 THEN DATE '{year}-03-01' END AS t_start,
        training_days AS t_days
    FROM flat;
    ALTER TABLE persons ALTER COLUMN person_id SET NOT NULL;
    ALTER TABLE persons ALTER COLUMN region SET NOT NULL;
    ALTER TABLE persons ALTER COLUMN {"cat_poverty_alleviated" if flags else "categories"} SET NOT NULL;
    ALTER TABLE persons ALTER COLUMN hukou_region SET NOT NULL;
    ALTER TABLE persons ALTER COLUMN e_work_region SET NOT NULL;
    ALTER TABLE persons ALTER COLUMN e_organized_export SET NOT NULL;
    ALTER TABLE persons ALTER COLUMN e_travel_cost_fen SET NOT NULL;
    ALTER TABLE persons ALTER COLUMN t_days SET NOT NULL"""


def run_bangfu(con: duckdb.DuckDBPyConnection, policy: Policy, year: int, layout: Layout) -> pa.Table:
    # the schema's NOT NULL columns are read inside the timed part: they are Bangfu's to look up
    layout = dataclasses.replace(layout, non_null=non_null_columns(con, "persons"))
    query = build_query(policy, "person", dt.date(year, 6, 30), [REGION], BENEFITS, layout, amounts_only=True)
    return con.sql(query.sql).to_arrow_table()


def amounts(table: pa.Table, prefix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The two amount columns of a SQL result, ordered by person_id."""
    table = table.sort_by("person_id")
    return tuple(table.column(f"{bid}{prefix}").to_numpy() for bid in BENEFITS)  # type: ignore[return-value]


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    """The result, wall seconds and process CPU seconds (all threads) of one call."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - started, time.process_time() - cpu_started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=3_300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (checked all the same)")
    parser.add_argument("--year", type=int, default=2024, help="the policy is in force from 2021-07-01")
    parser.add_argument("--flat", type=Path, default=None, help="flat Parquet (default bench/out/flat-N.parquet)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    parser.add_argument(
        "--list", dest="flags", action="store_false", help="categories as a list column, not one boolean per category"
    )
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    flat_path = args.flat or BENCH_DIR / "out" / f"flat-{args.persons}.parquet"

    code = code_version()
    print(f"code {code}; machine {machine()}")
    # preparation, not timed
    if not flat_path.exists():
        write_flat_facts(flat_path, args.persons)
    facts = read_flat_facts(flat_path)
    if len(facts["person_id"]) != args.persons:
        raise SystemExit(f"{flat_path} has {len(facts['person_id'])} rows, not {args.persons}")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # as Bangfu's DuckDBBackend does
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    literal_path = str(flat_path).replace("'", "''")
    con.execute(f"CREATE TABLE flat AS SELECT * FROM read_parquet('{literal_path}')")
    con.execute(bangfu_persons_sql(args.year, args.flags))
    layout = Layout(
        inline={"employment": "e_", "training": "t_"},
        empty=frozenset({"received"}),
        flags={"categories": "cat_"} if args.flags else {},
    )
    policy = load_bundled()
    get_tax_benefit_system()
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]

    engines: dict[str, Callable[[], object]] = {
        "bangfu": lambda: run_bangfu(con, policy, args.year, layout),
        "openfisca": lambda: run_openfisca(facts, args.year),
        "handwritten": lambda: con.sql(HANDWRITTEN_FLAT_SQL).to_arrow_table(),
    }
    walls: dict[str, list[float]] = {name: [] for name in engines}
    cpus: dict[str, list[float]] = {name: [] for name in engines}
    shape = "flags" if args.flags else "list"
    print(f"persons={args.persons:,} year={args.year} runs={args.runs} (+{args.warmup} warm-up) ", end="")
    print(f"duckdb threads={threads} categories={shape}")
    for index in range(-args.warmup, args.runs):
        results = {}
        for name, fn in engines.items():
            results[name], wall, cpu = timed(fn)
            if index >= 0:
                walls[name].append(wall)
                cpus[name].append(cpu)
        openfisca = results["openfisca"]
        bangfu = amounts(results["bangfu"], "__amount_fen")
        handwritten = amounts(results["handwritten"], "_fen")
        for got, name in [(bangfu, "bangfu"), (handwritten, "handwritten")]:
            for benefit, expected, actual in zip(BENEFITS, openfisca, got, strict=True):
                assert np.array_equal(expected, actual), f"run {index + 1}: {name} != openfisca for {benefit}"
        if index >= 0:
            line = "  ".join(f"{n} {w[-1] * 1000:8.1f} ms" for n, w in walls.items())
            print(f"run {index + 1}: {line}  (equal)")

    medians = {name: statistics.median(w) for name, w in walls.items()}
    cpu_medians = {name: statistics.median(c) for name, c in cpus.items()}
    vs_openfisca = medians["openfisca"] / medians["bangfu"]
    vs_handwritten = medians["bangfu"] / medians["handwritten"]
    payees = [int((a > 0).sum()) for a in openfisca]
    print("median wall: " + "  ".join(f"{n} {m * 1000:.1f} ms" for n, m in medians.items()))
    print("median CPU:  " + "  ".join(f"{n} {m * 1000:.1f} ms" for n, m in cpu_medians.items()))
    print(f"payees: transport {payees[0]:,}, training {payees[1]:,} (identical amounts in all three, every run)")
    met = vs_openfisca >= OPENFISCA_RATIO_TARGET
    print(f"OpenFisca / Bangfu    = {vs_openfisca:.2f}x (target >= {OPENFISCA_RATIO_TARGET}: {verdict(met)})")
    met = vs_handwritten <= HANDWRITTEN_RATIO_TARGET
    print(f"Bangfu / hand-written = {vs_handwritten:.2f}x (target <= {HANDWRITTEN_RATIO_TARGET}: {verdict(met)})")
    code_after = code_version()
    if code_after != code:
        print(f"WARNING: the code changed during the benchmark ({code} -> {code_after})")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        summary: dict[str, object] = {"code": code, "code_after": code_after, "machine": machine()}
        summary |= {"persons": args.persons, "year": args.year, "threads": threads, "categories": shape}
        summary |= {"runs_s": walls, "runs_cpu_s": cpus, "median_cpu_s": cpu_medians}
        summary |= {"median_s": medians, "openfisca_over_bangfu": vs_openfisca}
        summary["bangfu_over_handwritten"] = vs_handwritten
        args.json_out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
