"""Shared pieces for mapping a synthetic population onto the registry's tables (``people``,
``organizations``): vectorised value helpers, the ledger rows, and the set of keys already
used. Every column is built for a whole chunk at once, as the generator builds it.

Every fact the policy engine reads passes through the mapping unchanged, so the population read back
out of the database (``registry.population_export``) evaluates exactly like the Parquet on any day of the data
year: categories and recognitions start no later than 1 January of that year and stay open, and the
expired periods added for realism end before it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Plausible amounts in fen per benefit, drawn uniformly (the first three under the policy's caps).
LEDGER_AMOUNTS = {
    "transport_cross_province": (20_000, 80_000),
    "transport_in_province_organized": (5_000, 30_000),
    "training_living_allowance": (1_500, 45_000),
    "employment_base_reward": (10_000_000, 10_000_000),
    "one_time_hiring_subsidy": (100_000, 1_000_000),
    "incubator_reward": (2_000_000, 20_000_000),
}


def day_number(value: dt.date) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))


def uniform_days(rng: np.random.Generator, n: int, first: dt.date, last: dt.date) -> IntArray:
    """Uniform day numbers, both ends included; ``first`` is pulled back to ``last`` if later."""
    hi = day_number(last)
    return rng.integers(min(day_number(first), hi), hi + 1, size=n)


def date_array(days: IntArray, null: BoolArray | None = None) -> pa.Array:
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=null)


def day_numbers(column: pa.ChunkedArray | pa.Array) -> IntArray:
    return np.asarray(pc.cast(column, pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)


def int_values(column: pa.ChunkedArray | pa.Array) -> IntArray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.int64)


def take(values: tuple[str, ...] | list[str], indices: IntArray, null: BoolArray | None = None) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(indices, mask=null))


def pick(rng: np.random.Generator, values: tuple[str, ...], n: int) -> pa.Array:
    """``n`` values drawn uniformly from ``values``."""
    return take(values, rng.integers(0, len(values), size=n))


def digit_strings(rng: np.random.Generator, prefix: str, n: int, width: int) -> npt.NDArray[np.str_]:
    """``n`` strings of ``prefix`` followed by ``width`` random digits."""
    chars = np.empty((n, len(prefix) + width), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    chars[:, len(prefix) :] = rng.integers(ord("0"), ord("9") + 1, size=(n, width), dtype=np.uint8)
    return chars.view(f"S{chars.shape[1]}").reshape(n).astype(f"U{chars.shape[1]}")


def joined(*parts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def repeated(text: str, n: int) -> pa.Array:
    return pa.array([text] * n, type=pa.string())


def source_text(seed: int) -> str:
    """The ledger's ``source`` of a synthetic entry."""
    return f"合成数据（bangfu synth，种子 {seed}）"


def ledger_rows(
    chunk: pa.Table, rng: np.random.Generator, source: str, *, person_id: pa.Array, org_id: pa.Array
) -> pa.Table:
    """benefit_ledger rows for a chunk of ``received`` or ``org_received`` (benefit, date, units)."""
    n = chunk.num_rows
    benefit = pc.index_in(chunk["benefit"], value_set=pa.array(list(LEDGER_AMOUNTS)))
    which = int_values(benefit)
    low = np.array([low for low, _ in LEDGER_AMOUNTS.values()], dtype=np.int64)[which]
    high = np.array([high for _, high in LEDGER_AMOUNTS.values()], dtype=np.int64)[which]
    # Whole yuan, as paid.
    amount = (low + (rng.random(n) * (high - low + 1)).astype(np.int64)) // 100 * 100
    return pa.table(
        {
            "person_id": person_id,
            "org_id": org_id,
            "benefit_id": chunk["benefit"],
            "date": chunk["date"],
            "amount_fen": pa.array(amount, type=pa.int64()),
            "source": repeated(source, n),
            "units": chunk["units"],
        }
    )


class UniqueKeys:
    """Keys already used (ID numbers, credit codes), to find repeats within and across chunks.

    The generator draws the sequence digits of ID numbers independently, so a province-size population
    repeats a few thousand of them; the registry's unique index would refuse those rows. The keys are
    kept as one sorted array: a chunk is checked by binary search and merged in with one insert.
    """

    def __init__(self, dtype: npt.DTypeLike) -> None:
        self.seen = np.empty(0, dtype=dtype)

    def repeats(self, keys: npt.NDArray[np.generic]) -> BoolArray:
        """True for each key already used, or used by an earlier row of ``keys``."""
        position = np.minimum(np.searchsorted(self.seen, keys), max(len(self.seen) - 1, 0))
        taken = self.seen[position] == keys if len(self.seen) else np.zeros(len(keys), dtype=bool)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        later = np.zeros(len(keys), dtype=bool)
        later[order[1:]] = ordered[1:] == ordered[:-1]
        return np.asarray(taken | later)

    def add(self, keys: npt.NDArray[np.generic]) -> None:
        """Remember ``keys``, which must be new (free of repeats)."""
        new = np.sort(keys)
        self.seen = np.insert(self.seen, np.searchsorted(self.seen, new), new)


def id_number_keys(id_numbers: npt.NDArray[np.str_]) -> IntArray:
    # The first 17 digits decide the 18th (the check character), so they identify the number.
    return np.asarray(id_numbers.astype("U17").astype(np.int64), dtype=np.int64)
