"""Employment files into ``employment_spells``, keyed by (person, start date, employer as written).

A work place outside Shanxi resolves to its province and a Shanxi city to its city (2 and 4 digits);
they are stored as the full 6-digit code of that province or city (44 → 440000, 1401 → 140100), the
GB/T 2260 form the registry's column requires.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from bangfu.registry.imports.records import EmploymentRecord
from bangfu.registry.imports.upsert.base import BatchWriter, Outcome, column_limit, table_of, too_long
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.registry.imports.upsert.persons_lookup import PersonLookup
from bangfu.store.tables import EmploymentSpell

SPELLS = table_of(EmploymentSpell)
EMPLOYER_LIMIT = column_limit(SPELLS.c.employer_name)
JOB_LIMIT = column_limit(SPELLS.c.job)
REGION_DIGITS = 6


def full_region_code(code: str) -> str:
    return code.ljust(REGION_DIGITS, "0")


def significant_prefix(code: str) -> str:
    """The province or city a full 6-digit code stands for when it ends in zeros (440000 → 44)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


class EmploymentWriter(BatchWriter[EmploymentRecord]):
    table = SPELLS
    compared = ("work_region", "end_date", "organized_export", "travel_cost_fen", "job", "monthly_income_fen")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._persons = PersonLookup(self.connection)
        self._spells: dict[Hashable, Mapping[str, Any]] = {}

    def refuse(self, record: EmploymentRecord) -> str | None:
        return too_long(record.employer, EMPLOYER_LIMIT, "用工单位") or too_long(record.job, JOB_LIMIT, "岗位")

    def prepare(self, records: Sequence[EmploymentRecord], claimed_names: Sequence[str | None]) -> None:
        self._persons.load(r.id_number for r in records)
        query = select(
            SPELLS.c.id,
            SPELLS.c.person_id,
            SPELLS.c.start_date,
            SPELLS.c.employer_name,
            *(SPELLS.c[c] for c in self.compared),
        ).order_by(SPELLS.c.id)
        person_ids = self._persons.ids(r.id_number for r in records)
        self._spells = {}
        for row in rows_in(self.connection, query, SPELLS.c.person_id, person_ids):
            # The first registered spell under a key wins, should earlier data hold repeats.
            self._spells.setdefault((row.person_id, row.start_date, row.employer_name), row._mapping)

    def resolve(self, record: EmploymentRecord, claimed_name: str | None) -> Outcome | None:
        return self._persons.refusal(record.id_number, claimed_name)

    def key(self, record: EmploymentRecord) -> Hashable:
        return (self._persons.id_of(record.id_number), record.start_date, record.employer)

    def registered(self, key: Hashable) -> Mapping[str, Any] | None:
        return self._spells.get(key)

    def wanted(self, record: EmploymentRecord) -> dict[str, Any]:
        return {
            "work_region": full_region_code(record.work_region),
            "end_date": record.end_date,
            "organized_export": record.organized_export,
            "travel_cost_fen": record.travel_cost_fen,
            "job": record.job,
            "monthly_income_fen": record.monthly_income_fen,
        }

    def same(self, column: str, registered: Any, given: Any) -> bool:
        if column == "work_region" and isinstance(registered, str):
            # 广东省 says nothing new about a spell registered in 深圳市南山区 (440305): keep the finer code.
            return registered.startswith(significant_prefix(given))
        return super().same(column, registered, given)

    def insert_values(self, record: EmploymentRecord) -> dict[str, Any]:
        values = self.wanted(record)
        return {
            "person_id": self._persons.id_of(record.id_number),
            "employer_name": record.employer,
            "start_date": record.start_date,
            **values,
        }
