"""A person's work and welfare-post facts for one year (``person_year_facts``), kept in step with a download.

The national download states, per person and 年度, months worked, where, for whom, through which
channel, and any welfare post. A later download of the same year corrects them: a filled cell
replaces the registered value, an empty one leaves it (as everywhere in an import). The change is
logged as one field, ``year_facts``, with the year's facts before and after as JSON.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from bangfu.registry.imports.records import NationalFacts
from bangfu.registry.imports.upsert.base import Change, table_of
from bangfu.registry.imports.upsert.bulk_io import insert_rows, rows_in
from bangfu.store.tables import PersonYearFacts

YEAR_FACTS = table_of(PersonYearFacts)
FIELDS = (
    "work_months",
    "work_place",
    "employer_name",
    "employment_channel",
    "welfare_post_type",
    "welfare_post_months",
)
CHANGE_FIELD = "year_facts"
_GIVEN = operator.attrgetter(*FIELDS)


def _as_json(year: int, facts: Mapping[str, Any]) -> str:
    return json.dumps({"year": year, **{field: facts[field] for field in FIELDS}}, ensure_ascii=False)


class YearFacts:
    """The year rows of a batch's registered persons, and the writes planned on them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._rows: dict[tuple[int, int], Mapping[str, Any]] = {}
        self._add: list[tuple[Any, ...]] = []
        self._update: list[dict[str, Any]] = []

    def load(self, person_ids: Iterable[int]) -> None:
        query = select(YEAR_FACTS.c.id, YEAR_FACTS.c.person_id, YEAR_FACTS.c.year, *(YEAR_FACTS.c[f] for f in FIELDS))
        rows = rows_in(self.connection, query, YEAR_FACTS.c.person_id, person_ids)
        self._rows = {(row.person_id, row.year): row._mapping for row in rows}

    def start(self, person_id: int, facts: NationalFacts) -> None:
        """The year's row of a new person (none when the download says nothing about that year's work)."""
        given: tuple[Any, ...] = _GIVEN(facts)
        if given.count(None) != len(given):
            self._add.append((person_id, facts.year, *given))

    def align(self, person_id: int, facts: NationalFacts) -> Change | None:
        """Plan the write that brings the registered year in line with ``facts``; the change, if any."""
        row = self._rows.get((person_id, facts.year))
        if row is None:
            self.start(person_id, facts)
            if not self._add or self._add[-1][0] != person_id:
                return None
            after = dict(zip(FIELDS, self._add[-1][2:], strict=True))
            return Change(CHANGE_FIELD, None, _as_json(facts.year, after))
        merged = {field: row[field] if getattr(facts, field) is None else getattr(facts, field) for field in FIELDS}
        if all(merged[field] == row[field] for field in FIELDS):
            return None
        self._update.append({"row_id": row["id"], **{f"new_{field}": merged[field] for field in FIELDS}})
        return Change(CHANGE_FIELD, _as_json(facts.year, row), _as_json(facts.year, merged))

    def flush(self) -> None:
        if self._add:
            insert_rows(self.connection, YEAR_FACTS, ("person_id", "year", *FIELDS), self._add)
        if self._update:
            statement = (
                update(YEAR_FACTS)
                .where(YEAR_FACTS.c.id == bindparam("row_id"))
                .values({field: bindparam(f"new_{field}") for field in FIELDS})
            )
            self.connection.execute(statement, self._update)
        self._add, self._update = [], []
