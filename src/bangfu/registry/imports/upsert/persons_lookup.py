"""Find the registered person an employment or training row refers to, and check the name beside it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from bangfu.registry.imports.upsert.base import Outcome, conflict_reason, table_of
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.store.tables import Person

PERSONS = table_of(Person)
UNKNOWN_PERSON = "未找到该身份证号的人员，请先导入人员"


class PersonLookup:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._people: dict[str, tuple[int, str]] = {}

    def load(self, id_numbers: Iterable[str]) -> None:
        query = select(PERSONS.c.id_number, PERSONS.c.id, PERSONS.c.name)
        rows = rows_in(self.connection, query, PERSONS.c.id_number, id_numbers)
        self._people = {number: (person_id, name) for number, person_id, name in rows}

    def ids(self, id_numbers: Iterable[str]) -> list[int]:
        """The ids of the registered persons among ``id_numbers``."""
        return [found[0] for number in id_numbers if (found := self._people.get(number)) is not None]

    def id_of(self, id_number: str) -> int:
        return self._people[id_number][0]

    def refusal(self, id_number: str, claimed_name: str | None) -> Outcome | None:
        """Unknown ID number, or a 姓名 column that names someone else (a mistyped number, most likely)."""
        found = self._people.get(id_number)
        if found is None:
            return Outcome.rejected(UNKNOWN_PERSON)
        if claimed_name is not None and claimed_name != found[1]:
            return Outcome.rejected(conflict_reason("姓名", claimed_name, found[1]), conflict=True)
        return None
