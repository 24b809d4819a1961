"""People rosters into ``persons`` and ``person_categories``, keyed by the normalised ID number.

The ID number fixes birth date and sex, so a registered person can differ from the roster only in
name (refused as a conflict: a rename is done in the system, deliberately), county, labour capacity,
phone, household and categories (updated). A household number must already be registered: the
household file comes first, as it names the head and the county.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from bangfu.core.vocabulary import CATEGORIES
from bangfu.registry.imports.records import PersonRecord
from bangfu.registry.upsert.base import (
    BatchWriter,
    Change,
    Outcome,
    column_limit,
    conflict_reason,
    table_of,
    too_long,
)
from bangfu.registry.upsert.bulk_io import rows_in
from bangfu.registry.upsert.periods import CurrentPeriods
from bangfu.store.tables import Household, Person, PersonCategory

PERSONS = table_of(Person)
HOUSEHOLDS = table_of(Household)
CATEGORY_ROWS = table_of(PersonCategory)
HOUSEHOLD_NUMBER_LIMIT = column_limit(HOUSEHOLDS.c.household_number)


def unknown_household(number: str) -> str:
    return f"户编号“{number}”尚未登记：请先导入家庭户（bangfu import households），再导入本行"


class PeopleWriter(BatchWriter[PersonRecord]):
    table = PERSONS
    compared = ("hukou_region", "labor_capacity", "phone", "household_id")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._people: dict[str, Mapping[str, Any]] = {}
        # Household numbers seen so far; a roster names each household several times.
        self._households: dict[str, int | None] = {}
        self._categories = CurrentPeriods(self.connection, CATEGORY_ROWS, "person_id", "category", self.today)

    def refuse(self, record: PersonRecord) -> str | None:
        return too_long(record.household_number, HOUSEHOLD_NUMBER_LIMIT, "户编号")

    def prepare(self, records: Sequence[PersonRecord], claimed_names: Sequence[str | None]) -> None:
        query = select(PERSONS.c.id, PERSONS.c.id_number, PERSONS.c.name, *(PERSONS.c[c] for c in self.compared))
        rows = rows_in(self.connection, query, PERSONS.c.id_number, (r.id_number for r in records))
        self._people = {row.id_number: row._mapping for row in rows}
        self._categories.load(row.id for row in rows)
        numbers = {r.household_number for r in records if r.household_number} - self._households.keys()
        if numbers:
            query = select(HOUSEHOLDS.c.household_number, HOUSEHOLDS.c.id)
            found = dict(rows_in(self.connection, query, HOUSEHOLDS.c.household_number, numbers))
            self._households.update({number: found.get(number) for number in numbers})

    def resolve(self, record: PersonRecord, claimed_name: str | None) -> Outcome | None:
        if record.household_number and self._households.get(record.household_number) is None:
            return Outcome.rejected(unknown_household(record.household_number))
        return None

    def key(self, record: PersonRecord) -> Hashable:
        return record.id_number

    def sort_key(self, record: PersonRecord) -> Any:
        return record.id_number

    def registered(self, key: Hashable) -> Mapping[str, Any] | None:
        return self._people.get(str(key))

    def contradicts(self, record: PersonRecord, row: Mapping[str, Any]) -> str | None:
        return None if record.name == row["name"] else conflict_reason("姓名", record.name, row["name"])

    def wanted(self, record: PersonRecord) -> dict[str, Any]:
        household = self._households.get(record.household_number) if record.household_number else None
        return {
            "hukou_region": record.hukou_region,
            "labor_capacity": record.labor_capacity,
            "phone": record.phone,
            "household_id": household,
        }

    def related_changes(self, record: PersonRecord, row: Mapping[str, Any]) -> list[Change]:
        change = self._categories.align(row["id"], record.categories, CATEGORIES, "categories")
        return [] if change is None else [change]

    def insert_values(self, record: PersonRecord) -> dict[str, Any]:
        return {
            "id_number": record.id_number,
            "name": record.name,
            "sex": record.sex,
            "birth_date": record.birth_date,
            **self.wanted(record),
        }

    def inserted(self, records: Sequence[PersonRecord], ids: Sequence[int]) -> None:
        for record, person_id in zip(records, ids, strict=True):
            self._categories.start(person_id, record.categories)

    def finish(self) -> None:
        self._categories.flush()
