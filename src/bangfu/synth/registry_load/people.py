"""Registry rows for the persons of a synthetic population: households (1–5 people of one hukou
county, in one of its townships), persons (with that township), their category periods, employment
spells, training records and ledger entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bangfu.core import citizen_id, regions
from bangfu.core.vocabulary import CATEGORIES
from bangfu.store.name_index import sort_keys_of
from bangfu.synth.population import ORG_BRANDS, ORG_NAME_SUFFIXES
from bangfu.synth.registry_load.rows import (
    IntArray,
    UniqueKeys,
    date_array,
    day_number,
    digit_strings,
    id_number_keys,
    int_values,
    joined,
    ledger_rows,
    pick,
    repeated,
    source_text,
    take,
    uniform_days,
)

HOUSEHOLD_SIZE_SHARES = (0.14, 0.26, 0.27, 0.21, 0.12)  # 1–5 members, mean about 2.9
MOBILE_PREFIXES = ("133", "135", "139", "151", "152", "158", "177", "186", "187", "189", "199")
EMPLOYERS = tuple(f"{brand}{suffix}" for brand in ORG_BRANDS for suffix in ORG_NAME_SUFFIXES["enterprise"])
TRAINING_PROVIDERS = ("县职业技能培训中心", "县职业中学", "市技师学院", "县农业技术推广中心", "县就业训练中心")
PROGRAMMES = ("电工", "焊工", "家政服务", "中式烹调", "养老护理", "电子商务", "农业实用技术", "挖掘机操作", "面点制作")
LAPSED_MONITORING_SHARE = 0.03  # people whose risk of falling back was removed (消除风险) before the data year


class _Places:
    """County names and their townships, for household addresses and members' township codes."""

    def __init__(self) -> None:
        self.names = {c.code: c.name for c in regions.shanxi_counties()}
        self.townships = {code: regions.townships_of(code) for code in self.names}


@dataclass
class PersonRows:
    """Maps chunks of a synthetic population's person tables; holds what spans chunks."""

    year: int
    seed: int
    offset: int = 0  # added to the synthetic person_id: the registry's persons.id
    next_household: int = 1
    id_numbers: UniqueKeys = field(default_factory=lambda: UniqueKeys(np.int64))
    places: _Places = field(default_factory=_Places)

    def _ids(self, chunk: pa.Table) -> pa.Array:
        return pa.array(int_values(chunk["person_id"]) + self.offset, type=pa.int64())

    def persons(self, chunk: pa.Table, rng: np.random.Generator) -> dict[str, pa.Table]:
        """households, persons and person_categories for one chunk of ``persons.parquet``."""
        n = chunk.num_rows
        counties = pc.dictionary_encode(chunk["hukou_region"].combine_chunks())
        member_of, household_county = _households(rng, int_values(counties.indices))
        household_ids = self.next_household + np.arange(len(household_county), dtype=np.int64)
        self.next_household += len(household_county)

        phones = joined(pick(rng, MOBILE_PREFIXES, n), pa.array(digit_strings(rng, "", n, 8)))
        persons = pa.table(
            {
                "id": self._ids(chunk),
                "id_number": self._unique_id_numbers(chunk, rng),
                "name": chunk["name"],
                "name_sort": sort_keys_of(chunk["name"]),
                "sex": chunk["sex"],
                "birth_date": chunk["birth_date"],
                "hukou_region": chunk["hukou_region"],
                "residence_region": chunk["region"],
                "household_id": pa.array(household_ids[member_of], type=pa.int64()),
                "labor_capacity": chunk["labor_capacity"],
                "risk_removed_on": chunk["risk_removed_on"],
                "phone": pc.if_else(pa.array(rng.random(n) < 0.9), phones, None),
            }
        )
        county_codes: list[str] = counties.dictionary.to_pylist()
        household_counties = [county_codes[i] for i in household_county]
        households, townships = self._households(rng, household_ids, household_counties, persons, member_of)
        return {
            "households": households,
            # Every member lives in the household's township, the one its address names.
            "persons": persons.append_column("township_code", townships.take(pa.array(member_of))),
            "person_categories": self._categories(chunk, rng),
        }

    def _households(
        self, rng: np.random.Generator, ids: IntArray, counties: list[str], persons: pa.Table, member_of: IntArray
    ) -> tuple[pa.Table, pa.Array]:
        """The households, and each one's township code (null for a county without bundled townships)."""
        n = len(ids)
        head = pa.array(np.unique(member_of, return_index=True)[1])  # each household's first member heads it
        county = pa.array(counties, type=pa.string())
        township = [
            towns[int(u * len(towns))] if (towns := self.places.townships.get(code)) else None
            for code, u in zip(counties, rng.random(n), strict=True)
        ]
        address = joined(
            pa.array([self.places.names.get(code, code) for code in counties], type=pa.string()),
            pa.array([t.name if t else "" for t in township], type=pa.string()),
            repeated("第", n),
            pc.cast(pa.array(rng.integers(1, 13, size=n)), pa.string()),
            repeated("村民小组", n),
        )
        households = pa.table(
            {
                "id": pa.array(ids, type=pa.int64()),
                # County code and the row's id: unique, and readable as "which county's household".
                "household_number": joined(county, pc.utf8_lpad(pc.cast(pa.array(ids), pa.string()), 10, "0")),
                "region_code": county,
                "address": address,
                "head_name": persons["name"].take(head),
                "head_id_number": persons["id_number"].take(head),
                "member_count": pa.array(np.bincount(member_of, minlength=n), type=pa.int64()),
            }
        )
        return households, pa.array([t.code if t else None for t in township], type=pa.string())

    def _unique_id_numbers(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Array:
        numbers = np.asarray(chunk["id_number"].to_numpy(zero_copy_only=False)).astype("U18")
        keys = id_number_keys(numbers)
        repeats = self.id_numbers.repeats(keys)
        if repeats.any():
            hukou = np.asarray(chunk["hukou_region"].to_numpy(zero_copy_only=False)).astype("U6")
            births = chunk["birth_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
            male = np.asarray(pc.equal(chunk["sex"], "male").to_numpy(zero_copy_only=False), dtype=bool)
            while repeats.any():
                # New sequence digits for the same county, birth date and sex: the number stays truthful.
                rows = np.flatnonzero(repeats)
                numbers[rows] = citizen_id.generate_many(rng, hukou[rows], births[rows], male[rows])
                keys[rows] = id_number_keys(numbers[rows])
                repeats = self.id_numbers.repeats(keys)
        self.id_numbers.add(keys)
        return pa.array(numbers, type=pa.string())

    def _categories(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Table:
        lists = chunk["categories"].combine_chunks()
        person_ids = int_values(chunk["person_id"]) + self.offset
        n = len(person_ids)
        owner = int_values(pc.list_parent_indices(lists))
        category = int_values(pc.index_in(pc.list_flatten(lists), value_set=pa.array(CATEGORIES)))

        year_start = dt.date(self.year, 1, 1)
        alleviated = uniform_days(rng, n, dt.date(2014, 1, 1), min(dt.date(2020, 12, 31), year_start))
        monitored = uniform_days(rng, n, dt.date(2020, 3, 1), year_start)
        starts = {
            "poverty_alleviated": alleviated,
            "edge_of_poverty": monitored,
            "unstable_alleviated": monitored,
            "sudden_hardship": monitored,
            "monitored": monitored,
            "rural_low_income": uniform_days(rng, n, dt.date(2015, 1, 1), year_start),
            # Relocation (易地扶贫搬迁) came before or with leaving poverty, from 2016.
            "relocated": np.maximum(alleviated - rng.integers(0, 700, size=n), day_number(dt.date(2016, 1, 1))),
        }
        # Held all through the data year: no start after its first day.
        start_matrix = np.stack([np.minimum(starts[name], day_number(year_start)) for name in CATEGORIES])
        start = start_matrix[category, owner]

        # Realism, and a test of the export's date filter: monitoring that ended before the data year.
        monitored_now = np.zeros(n, dtype=bool)
        monitored_now[owner[category == CATEGORIES.index("monitored")]] = True
        lapsed = np.flatnonzero(~monitored_now & (rng.random(n) < LAPSED_MONITORING_SHARE))
        last = day_number(dt.date(self.year - 1, 12, 31))
        lapsed_start = rng.integers(day_number(dt.date(self.year - 3, 1, 1)), last - 180, size=len(lapsed))
        lapsed_end = np.minimum(lapsed_start + rng.integers(90, 540, size=len(lapsed)), last)
        lapsed_category = np.tile([CATEGORIES.index("edge_of_poverty"), CATEGORIES.index("monitored")], len(lapsed))

        held = len(owner)
        every_owner = np.concatenate([owner, np.repeat(lapsed, 2)])
        return pa.table(
            {
                "person_id": pa.array(person_ids[every_owner], type=pa.int64()),
                "category": take(CATEGORIES, np.concatenate([category, lapsed_category])),
                "start_date": date_array(np.concatenate([start, np.repeat(lapsed_start, 2)])),
                "end_date": date_array(
                    np.concatenate([np.zeros(held, dtype=np.int64), np.repeat(lapsed_end, 2)]),
                    null=np.arange(len(every_owner)) < held,
                ),
                "relocation_site_code": pa.nulls(len(every_owner), type=pa.string()),
            }
        )

    def employment(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Table:
        n = chunk.num_rows
        batch = joined(
            repeated(f"{self.year}年有组织劳务输出第", n),
            pc.cast(pa.array(rng.integers(1, 13, size=n)), pa.string()),
            repeated("批", n),
        )
        unknown = rng.random(n) < 0.1
        return pa.table(
            {
                "person_id": self._ids(chunk),
                "employer_name": pick(rng, EMPLOYERS, n),
                "work_region": chunk["work_region"],
                "start_date": chunk["start"],
                "end_date": chunk["end"],
                "organized_export": chunk["organized_export"],
                "export_batch": pc.if_else(chunk["organized_export"], batch, None),
                "labour_contract": pa.array(rng.random(n) < 0.7, mask=unknown),
                "social_insurance": pa.array(rng.random(n) < 0.55, mask=unknown),
                "travel_cost_fen": chunk["travel_cost_fen"],
            }
        )

    def training(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Table:
        n = chunk.num_rows
        return pa.table(
            {
                "person_id": self._ids(chunk),
                "provider": pick(rng, TRAINING_PROVIDERS, n),
                "programme": pick(rng, PROGRAMMES, n),
                "start_date": chunk["start"],
                "days": chunk["days"],
                "certificate": pa.array(digit_strings(rng, "S", n, 15), mask=rng.random(n) < 0.4),
            }
        )

    def ledger(self, chunk: pa.Table, rng: np.random.Generator) -> pa.Table:
        ids = self._ids(chunk)
        return ledger_rows(chunk, rng, source_text(self.seed), person_id=ids, org_id=pa.nulls(len(ids), pa.int64()))


def _households(rng: np.random.Generator, county: IntArray) -> tuple[IntArray, IntArray]:
    """Each person's household (numbered from 0) and each household's county: 1–5 members of one county."""
    n = len(county)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    order = np.argsort(county, kind="stable")
    sorted_county = county[order]
    sizes = rng.choice(np.arange(1, 6), size=n, p=HOUSEHOLD_SIZE_SHARES)
    cuts = np.cumsum(sizes)
    county_changes = np.flatnonzero(np.diff(sorted_county)) + 1
    # Cutting a run of households where the county changes only makes households smaller.
    starts = np.unique(np.concatenate([[0], cuts[cuts < n], county_changes])).astype(np.int64)
    household = np.empty(n, dtype=np.int64)
    household[order] = np.searchsorted(starts, np.arange(n), side="right") - 1
    return household, sorted_county[starts]
