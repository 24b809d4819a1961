"""People rosters into ``persons`` and ``person_categories``, keyed by the normalised ID number.

The ID number fixes birth date and sex, so a registered person can differ from the roster only in
name (refused as a conflict: a rename is done in the system, deliberately), county, labour capacity,
phone, household and categories (updated). A household number must already be registered: the
household file comes first, as it names the head and the county.

A row of the national monitoring system's download (``record.national``) brings its household along
(created or updated first, ``MemberHouseholds``), the person facts (columns of ``persons``), the
year's work (``YearFacts``) and only the categories that layout speaks about. Persons with a national
人口编号 in the counties a download covers that it no longer lists are reported (``absent``), never
deleted: a download can be partial, and a person who left stays in the ledger's history.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import select

from bangfu.core import name_keys
from bangfu.core.vocabulary import CATEGORIES
from bangfu.registry.imports.records import NationalFacts, PersonRecord
from bangfu.registry.imports.upsert.base import (
    CLEARED,
    AbsentPerson,
    BatchWriter,
    Change,
    Outcome,
    column_limit,
    conflict_reason,
    table_of,
    too_long,
)
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.registry.imports.upsert.member_households import MemberHouseholds
from bangfu.registry.imports.upsert.name_terms import NameTerms
from bangfu.registry.imports.upsert.periods import CurrentPeriods
from bangfu.registry.imports.upsert.year_facts import YearFacts
from bangfu.registry.imports.validate import id_key
from bangfu.registry.imports.validate_national import NATIONAL_CATEGORIES
from bangfu.store.tables import Household, Person, PersonCategory

PERSONS = table_of(Person)
HOUSEHOLDS = table_of(Household)
CATEGORY_ROWS = table_of(PersonCategory)
HOUSEHOLD_NUMBER_LIMIT = column_limit(HOUSEHOLDS.c.household_number)


def unknown_household(number: str) -> str:
    return f"户编号“{number}”尚未登记：请先导入家庭户（bangfu import households），再导入本行"


# Columns only a national row fills; Bangfu's own roster leaves them as they are.
NATIONAL_COLUMNS = (
    "township_code",
    "person_number",
    "relation_to_head",
    "education",
    "schooling",
    "health",
    "disability",
    "minimum_living_allowance",
    "extreme_poverty_support",
    "risk_removed_on",
    "original_record",
)

NO_NATIONAL_ROW = (None,) * len(NATIONAL_COLUMNS)
# The person columns an insert writes, before the national ones.
PERSON_COLUMNS = (
    "id_number",
    "name",
    "name_sort",
    "sex",
    "birth_date",
    "hukou_region",
    "labor_capacity",
    "phone",
    "household_id",
)


def national_row(facts: NationalFacts, risk_removed_on: Any) -> tuple[Any, ...]:
    """The ``NATIONAL_COLUMNS`` of a national row, in that order."""
    return (
        facts.township_code,
        facts.person_number,
        facts.relation_to_head,
        facts.education,
        facts.schooling,
        facts.health,
        facts.disability,
        facts.minimum_living_allowance,
        facts.extreme_poverty_support,
        risk_removed_on,
        facts.original_record,
    )


class PeopleWriter(BatchWriter[PersonRecord]):
    table = PERSONS
    compared = ("hukou_region", "labor_capacity", "phone", "household_id", *NATIONAL_COLUMNS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._people: dict[str, Mapping[str, Any]] = {}
        # Household numbers seen so far; a roster names each household several times.
        self._households: dict[str, int | None] = {}
        self._categories = CurrentPeriods(self.connection, CATEGORY_ROWS, "person_id", "category", self.today)
        self._member_households = MemberHouseholds(self.connection, self.today)
        self._year_facts = YearFacts(self.connection)
        self._name_terms = NameTerms(self.connection)
        # What national rows reached the writer: who is listed, and the counties the download covers.
        self._listed: set[int] = set()
        self._counties: set[str] = set()

    def refuse(self, record: PersonRecord) -> str | None:
        return too_long(record.household_number, HOUSEHOLD_NUMBER_LIMIT, "户编号")

    def prepare(self, records: Sequence[PersonRecord], claimed_names: Sequence[str | None]) -> None:
        query = select(PERSONS.c.id, PERSONS.c.id_number, PERSONS.c.name, *(PERSONS.c[c] for c in self.compared))
        rows = rows_in(self.connection, query, PERSONS.c.id_number, (r.id_number for r in records))
        self._people = {row.id_number: row._mapping for row in rows}
        self._categories.load(row.id for row in rows)
        self._year_facts.load(row.id for row in rows)
        for record in records:
            if record.national is not None:
                self._listed.add(id_key(record.id_number))
                self._counties.add(record.hukou_region)
        for number in self._member_households.write(records):
            self._households.pop(number, None)  # read again below: it may have just been created
        numbers = {r.household_number for r in records if r.household_number} - self._households.keys()
        if numbers:
            query = select(HOUSEHOLDS.c.household_number, HOUSEHOLDS.c.id)
            found = dict(rows_in(self.connection, query, HOUSEHOLDS.c.household_number, numbers))
            self._households.update({number: found.get(number) for number in numbers})

    def resolve(self, record: PersonRecord, claimed_name: str | None) -> Outcome | None:
        if record.household_number and (refused := self._member_households.refused.get(record.household_number)):
            return Outcome.rejected(refused, conflict=True)
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
        wanted = {
            "hukou_region": record.hukou_region,
            "labor_capacity": record.labor_capacity,
            "phone": record.phone,
            "household_id": household,
        }
        if record.national is not None:
            # 是 on the day first seen (``same`` keeps that day later); 否 empties it; blank says nothing.
            risk_removed_on = {True: self.today, False: CLEARED, None: None}[record.national.risk_removed]
            wanted.update(zip(NATIONAL_COLUMNS, national_row(record.national, risk_removed_on), strict=True))
        return wanted

    def same(self, column: str, registered: Any, given: Any) -> bool:
        # The risk was removed on the day an import first saw it so; later downloads repeat 是.
        if column == "risk_removed_on" and registered is not None and given is not None:
            return True
        if column == "original_record" and registered is not None and given is not None and registered != given:
            # The same columns and cells written with other spacing (records stored before the
            # compact encoding) are the same record, not a change to log for every person.
            return bool(json.loads(registered) == json.loads(given))
        return bool(registered == given)

    def related_changes(self, record: PersonRecord, row: Mapping[str, Any]) -> list[Change]:
        managed = CATEGORIES if record.national is None else NATIONAL_CATEGORIES
        changes = [self._categories.align(row["id"], record.categories, managed, "categories")]
        if record.hukou_region and record.hukou_region != row["hukou_region"]:
            self._name_terms.move(row["id"], record.hukou_region)
        if record.national is not None:
            changes.append(self._year_facts.align(row["id"], record.national))
            changes.extend(self._member_households.changes.get(record.line, ()))
        return [change for change in changes if change is not None]

    def insert_rows_of(self, records: Sequence[PersonRecord]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        # Tuples rather than ``insert_values`` dicts: a first import inserts a million persons. Every
        # row has the national columns (one executemany or COPY needs the same columns on each row).
        households = self._households
        risk_removed_on = {True: self.today, False: None, None: None}
        rows = []
        for record in records:
            number = record.household_number
            person = (
                record.id_number,
                record.name,
                name_keys.sort_key(record.name),
                record.sex,
                record.birth_date,
                record.hukou_region,
                record.labor_capacity,
                record.phone,
                households.get(number) if number else None,
            )
            facts = record.national
            national = NO_NATIONAL_ROW if facts is None else national_row(facts, risk_removed_on[facts.risk_removed])
            rows.append(person + national)
        return (*PERSON_COLUMNS, *NATIONAL_COLUMNS), rows

    def inserted(self, records: Sequence[PersonRecord], ids: Sequence[int]) -> None:
        for record, person_id in zip(records, ids, strict=True):
            self._name_terms.add(person_id, record.name, record.hukou_region)
            self._categories.start(person_id, record.categories)
            if record.national is not None:
                self._year_facts.start(person_id, record.national)

    def finish(self) -> None:
        self._categories.flush()
        self._year_facts.flush()
        self._name_terms.flush()

    def absent(self) -> list[AbsentPerson]:
        if not self._counties:
            return []
        query = (
            select(
                PERSONS.c.name,
                PERSONS.c.id_number,
                PERSONS.c.hukou_region,
                HOUSEHOLDS.c.household_number,
                PERSONS.c.person_number,
            )
            .select_from(PERSONS.outerjoin(HOUSEHOLDS, HOUSEHOLDS.c.id == PERSONS.c.household_id))
            .where(PERSONS.c.hukou_region.in_(sorted(self._counties)), PERSONS.c.person_number.is_not(None))
            .order_by(PERSONS.c.hukou_region, HOUSEHOLDS.c.household_number, PERSONS.c.id_number)
        )
        if self._ids.first_taken is not None:
            # Persons this import inserted came from its own rows: only those registered before can be absent
            # (on a first import, none: no need to read back a million rows).
            query = query.where(PERSONS.c.id < self._ids.first_taken)
        return [
            AbsentPerson(*row) for row in self.connection.execute(query) if id_key(row.id_number) not in self._listed
        ]
