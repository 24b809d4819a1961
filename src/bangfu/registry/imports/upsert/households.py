"""Household rosters into ``households``, keyed by the household number (户编号).

The head is recorded as written. Where the head's ID number is already registered, as a person or as
the head of this household, under another name, the row is refused as a conflict, like a person's.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from bangfu.registry.imports.records import HouseholdRecord
from bangfu.registry.imports.upsert.base import BatchWriter, Outcome, column_limit, conflict_reason, table_of, too_long
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.store.tables import Household, Person

HOUSEHOLDS = table_of(Household)
PERSONS = table_of(Person)
NUMBER_LIMIT = column_limit(HOUSEHOLDS.c.household_number)
CATEGORIES_SEPARATOR = ","
# The roster has no address column; the registry's address is required, so it starts out empty.
NO_ADDRESS = ""


class HouseholdWriter(BatchWriter[HouseholdRecord]):
    table = HOUSEHOLDS
    compared = ("region_code", "head_name", "head_id_number", "member_count", "categories", "phone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._households: dict[str, Mapping[str, Any]] = {}
        self._person_names: dict[str, str] = {}

    def refuse(self, record: HouseholdRecord) -> str | None:
        return too_long(record.household_number, NUMBER_LIMIT, "户编号")

    def prepare(self, records: Sequence[HouseholdRecord], claimed_names: Sequence[str | None]) -> None:
        query = select(HOUSEHOLDS.c.id, HOUSEHOLDS.c.household_number, *(HOUSEHOLDS.c[c] for c in self.compared))
        rows = rows_in(self.connection, query, HOUSEHOLDS.c.household_number, (r.household_number for r in records))
        self._households = {row.household_number: row._mapping for row in rows}
        query = select(PERSONS.c.id_number, PERSONS.c.name)
        self._person_names = dict(
            rows_in(self.connection, query, PERSONS.c.id_number, (r.head_id_number for r in records))
        )

    def resolve(self, record: HouseholdRecord, claimed_name: str | None) -> Outcome | None:
        registered = self._person_names.get(record.head_id_number)
        if registered is not None and registered != record.head_name:
            return Outcome.rejected(conflict_reason("户主姓名", record.head_name, registered), conflict=True)
        return None

    def key(self, record: HouseholdRecord) -> Hashable:
        return record.household_number

    def registered(self, key: Hashable) -> Mapping[str, Any] | None:
        return self._households.get(str(key))

    def contradicts(self, record: HouseholdRecord, row: Mapping[str, Any]) -> str | None:
        if row["head_id_number"] == record.head_id_number and row["head_name"] not in (None, record.head_name):
            return conflict_reason("户主姓名", record.head_name, row["head_name"])
        return None

    def wanted(self, record: HouseholdRecord) -> dict[str, Any]:
        return {
            "region_code": record.hukou_region,
            "head_name": record.head_name,
            "head_id_number": record.head_id_number,
            "member_count": record.member_count,
            "categories": CATEGORIES_SEPARATOR.join(record.categories) or None,
            "phone": record.phone,
        }

    def insert_values(self, record: HouseholdRecord) -> dict[str, Any]:
        return {"household_number": record.household_number, "address": NO_ADDRESS, **self.wanted(record)}
