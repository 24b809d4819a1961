"""Flat per-person facts for the Shanxi 2021 employment-assistance benchmark.

One row per person, stored as Parquet with exactly these columns:
person_id, poverty_alleviated, cross_province_this_year, travel_cost_fen, training_days.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FLAT_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.int64(), nullable=False),
        pa.field("poverty_alleviated", pa.bool_(), nullable=False),
        pa.field("cross_province_this_year", pa.bool_(), nullable=False),
        pa.field("travel_cost_fen", pa.int64(), nullable=False),
        pa.field("training_days", pa.int64(), nullable=False),
    ]
)
FLAT_COLUMNS: tuple[str, ...] = tuple(FLAT_SCHEMA.names)

POVERTY_ALLEVIATED_SHARE = 0.85
CROSS_PROVINCE_SHARE = 0.35
TRAVEL_COST_MAX_FEN = 150_000
TRAINING_SHARE = 0.30
TRAINING_DAYS_MAX = 30


def generate_flat_facts(persons: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Generate the flat facts in memory (vectorised, deterministic for a seed)."""
    if persons < 0:
        raise ValueError(f"persons must be >= 0, got {persons}")
    rng = np.random.default_rng(seed)
    trained = rng.random(persons) < TRAINING_SHARE
    days = rng.integers(1, TRAINING_DAYS_MAX, size=persons, endpoint=True, dtype=np.int64)
    return {
        "person_id": np.arange(1, persons + 1, dtype=np.int64),
        "poverty_alleviated": rng.random(persons) < POVERTY_ALLEVIATED_SHARE,
        "cross_province_this_year": rng.random(persons) < CROSS_PROVINCE_SHARE,
        "travel_cost_fen": rng.integers(0, TRAVEL_COST_MAX_FEN, size=persons, endpoint=True, dtype=np.int64),
        "training_days": np.where(trained, days, np.int64(0)),
    }


def write_flat_facts(path: Path, persons: int, seed: int = 7) -> None:
    """Write `persons` rows of flat facts to a Parquet file at `path`."""
    facts = generate_flat_facts(persons, seed)
    table = pa.Table.from_arrays([pa.array(facts[name]) for name in FLAT_COLUMNS], schema=FLAT_SCHEMA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def read_flat_facts(path: Path | str) -> dict[str, np.ndarray]:
    """Read the flat facts back as one numpy array per column (bool or int64)."""
    table = pq.read_table(path, columns=list(FLAT_COLUMNS))
    facts: dict[str, np.ndarray] = {}
    for field in FLAT_SCHEMA:
        column = table.column(field.name)
        if column.null_count:
            raise ValueError(f"column {field.name} has {column.null_count} nulls")
        facts[field.name] = column.to_numpy().astype(field.type.to_pandas_dtype(), copy=False)
    return facts
