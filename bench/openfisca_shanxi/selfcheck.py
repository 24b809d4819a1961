"""Self-check: OpenFisca vs hand-written DuckDB SQL on the same flat Parquet facts.

Usage: .venv/bin/python bench/openfisca_shanxi/selfcheck.py [--persons 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

BENCH_DIR = Path(__file__).resolve().parents[1]
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from flat_facts import read_flat_facts, write_flat_facts  # noqa: E402
from openfisca_shanxi import get_tax_benefit_system, run_openfisca  # noqa: E402
from openfisca_shanxi.handwritten import run_handwritten_sql  # noqa: E402

T = TypeVar("T")
YEAR = 2021


def timed(fn: Callable[[], T], repeats: int) -> tuple[T, float]:
    """Run `fn` `repeats` times; return the last result and the median wall time in seconds."""
    walls = []
    result: T | None = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - start)
    assert result is not None
    return result, statistics.median(walls)


def numpy_reference(facts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Direct numpy transcription of the two rules, as an independent oracle."""
    poor = facts["poverty_alleviated"]
    transport = np.where(poor & facts["cross_province_this_year"], np.minimum(facts["travel_cost_fen"], 80_000), 0)
    days = facts["training_days"]
    training = np.where(poor & (days > 0), days * 1_500, 0)
    return transport.astype(np.int64), training.astype(np.int64)


def main(argv: list[str] | None = None) -> int:
    """Generate facts, run both implementations, compare, print timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="shanxi_flat_") as tmp:
        parquet_path = Path(tmp) / "flat_facts.parquet"
        start = time.perf_counter()
        write_flat_facts(parquet_path, args.persons, seed=args.seed)
        write_s = time.perf_counter() - start

        get_tax_benefit_system()  # one-time model load, excluded from the timed runs
        facts, read_s = timed(lambda: read_flat_facts(parquet_path), args.repeats)
        (transport_of, training_of), openfisca_s = timed(lambda: run_openfisca(facts, YEAR), args.repeats)

        con = duckdb.connect()
        table, sql_s = timed(lambda: run_handwritten_sql(con, str(parquet_path)), args.repeats)
        con.close()

    person_id = table.column("person_id").to_numpy()
    transport_sql = table.column("transport_cross_province_fen").to_numpy()
    training_sql = table.column("training_living_allowance_fen").to_numpy()
    transport_ref, training_ref = numpy_reference(facts)

    assert len(table) == args.persons
    assert np.array_equal(person_id, facts["person_id"]), "SQL rows not aligned with input order"
    for name, array in [
        ("transport openfisca", transport_of),
        ("training openfisca", training_of),
        ("transport sql", transport_sql),
        ("training sql", training_sql),
    ]:
        assert array.dtype == np.int64, f"{name}: dtype {array.dtype}"
    assert np.array_equal(transport_of, transport_sql), "transport: OpenFisca != SQL"
    assert np.array_equal(training_of, training_sql), "training: OpenFisca != SQL"
    assert np.array_equal(transport_of, transport_ref), "transport: OpenFisca != numpy reference"
    assert np.array_equal(training_of, training_ref), "training: OpenFisca != numpy reference"

    print(f"persons={args.persons:,} year={YEAR} repeats={args.repeats} (median wall times)")
    print(f"  write flat parquet        {write_s * 1000:9.1f} ms (once)")
    print(f"  read_flat_facts           {read_s * 1000:9.1f} ms")
    print(f"  run_openfisca             {openfisca_s * 1000:9.1f} ms (build + set_input + calculate)")
    print(f"  run_handwritten_sql       {sql_s * 1000:9.1f} ms (DuckDB, parquet -> arrow, ordered)")
    print(
        f"  identical element-wise: yes; transport payees={int((transport_of > 0).sum()):,} "
        f"sum={int(transport_of.sum()):,} fen; training payees={int((training_of > 0).sum()):,} "
        f"sum={int(training_of.sum()):,} fen"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
