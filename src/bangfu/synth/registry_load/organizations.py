"""Registry rows for the organizations of a synthetic population: organizations, their recognitions
(``recognized_base`` becomes an open employment-base recognition), on-the-job trainees and ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bangfu.core.vocabulary import ORGANIZATION_KINDS
from bangfu.synth.population import credit_codes
from bangfu.synth.registry_load.rows import (
    BoolArray,
    IntArray,
    UniqueKeys,
    date_array,
    day_number,
    day_numbers,
    int_values,
    ledger_rows,
    source_text,
    uniform_days,
)

LAPSED_BASE_SHARE = 0.03  # organizations whose employment-base recognition lapsed before the data year


@dataclass
class OrganizationRows:
    """Maps chunks of a synthetic population's organization tables; holds what spans chunks."""

    year: int
    seed: int
    offset: int = 0  # added to the synthetic org_id: the registry's organizations.id
    credit_codes: UniqueKeys = field(default_factory=lambda: UniqueKeys("U18"))

    def _ids(self, chunk: pa.Table) -> IntArray:
        return int_values(chunk["org_id"]) + self.offset

    def organizations(self, chunk: pa.Table, rng: np.random.Generator) -> dict[str, pa.Table]:
        """organizations and organization_recognitions for one chunk of ``organizations.parquet``."""
        org_ids = self._ids(chunk)
        same = [name for name in chunk.column_names if name not in ("org_id", "region", "recognized_base")]
        organizations = pa.table(
            {
                "id": pa.array(org_ids, type=pa.int64()),
                **{name: chunk[name] for name in same},
                "region_code": chunk["region"],
                "credit_code": self._unique_credit_codes(chunk, rng),
            }
        )
        return {
            "organizations": organizations,
            "organization_recognitions": self._recognitions(chunk, org_ids, rng),
        }

    def _unique_credit_codes(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Array:
        codes = np.asarray(chunk["credit_code"].to_numpy(zero_copy_only=False)).astype("U18")
        repeats = self.credit_codes.repeats(codes)
        if repeats.any():
            counties = np.asarray(chunk["region"].to_numpy(zero_copy_only=False)).astype("U6")
            kinds = int_values(pc.index_in(chunk["kind"], value_set=pa.array(ORGANIZATION_KINDS)))
            while repeats.any():
                rows = np.flatnonzero(repeats)
                redrawn = credit_codes(rng, counties[rows], kinds[rows])
                codes[rows] = np.asarray(redrawn.to_numpy(zero_copy_only=False)).astype("U18")
                repeats = self.credit_codes.repeats(codes)
        self.credit_codes.add(codes)
        return pa.array(codes, type=pa.string())

    def _recognitions(self, chunk: pa.Table, org_ids: IntArray, rng: np.random.Generator) -> pa.Table:
        n = len(org_ids)
        since = day_numbers(chunk["operating_since"])
        year_start = dt.date(self.year, 1, 1)
        base = np.asarray(chunk["recognized_base"].to_numpy(zero_copy_only=False), dtype=bool)
        kind = int_values(pc.index_in(chunk["kind"], value_set=pa.array(ORGANIZATION_KINDS)))
        employment_base = np.full(n, "employment_base")

        # Bases recognized since the policy began, not before opening, and at the latest on 1 January
        # of the data year, so that they count on every day of it.
        recognized = np.maximum(since, uniform_days(rng, n, dt.date(2021, 7, 1), year_start))
        base_start = np.minimum(recognized, day_number(year_start))
        # Workshops, incubators, agencies … are recognized as what they are within a year of opening.
        kind_start = np.minimum(since + rng.integers(0, 366, size=n), day_number(year_start))
        # A few lost their employment-base recognition before the data year.
        last = day_number(dt.date(self.year - 1, 12, 31))
        first = day_number(dt.date(self.year - 4, 1, 1))
        lapsed_start = np.maximum(since, rng.integers(first, last - 365, size=n))
        lapsed = ~base & (lapsed_start <= last - 180) & (rng.random(n) < LAPSED_BASE_SHARE)
        lapsed_end = np.minimum(lapsed_start + rng.integers(180, 721, size=n), last)

        def periods(rows: BoolArray, what: npt.NDArray[np.str_], start: IntArray, end: IntArray | None) -> pa.Table:
            return pa.table(
                {
                    "org_id": pa.array(org_ids[rows], type=pa.int64()),
                    "recognition": pa.array(what[rows], type=pa.string()),
                    "start_date": date_array(start[rows]),
                    "end_date": pa.nulls(int(rows.sum()), pa.date32()) if end is None else date_array(end[rows]),
                }
            )

        not_enterprise = kind != ORGANIZATION_KINDS.index("enterprise")
        return pa.concat_tables(
            [
                periods(base, employment_base, base_start, None),
                periods(not_enterprise, np.asarray(ORGANIZATION_KINDS)[kind], kind_start, None),
                periods(lapsed, employment_base, lapsed_start, lapsed_end),
            ]
        )

    def trainees(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Table:
        del rng  # the Parquet holds every fact the table needs
        return pa.table(
            {
                "org_id": pa.array(self._ids(chunk), type=pa.int64()),
                "person_id": pa.nulls(chunk.num_rows, pa.int64()),
                "start_date": chunk["start"],
                "months": chunk["months"],
                "previously_subsidized": chunk["previously_subsidized"],
            }
        )

    def ledger(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Table:
        ids = pa.array(self._ids(chunk), type=pa.int64())
        return ledger_rows(chunk, rng, source_text(self.seed), person_id=pa.nulls(len(ids), pa.int64()), org_id=ids)
