"""The name index kept by an import (ADR 0025): terms of the persons it inserts, moved with a new county.

An import never renames anyone (a different name for a registered ID number is refused), so only two
things touch the index: new persons, whose terms are written with the batch, and a new hukou county,
which the terms carry to keep "names in this county" one range of their key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, update

from bangfu.core import name_keys
from bangfu.registry.imports.upsert.base import table_of
from bangfu.registry.imports.upsert.bulk_io import insert_rows
from bangfu.store.tables import PersonNameTerm

TERMS = table_of(PersonNameTerm)


class NameTerms:
    """Terms planned during a batch, written by ``flush``."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._new: list[tuple[str, str, int]] = []
        self._moved: list[dict[str, Any]] = []

    def add(self, person_id: int, name: str, hukou_region: str) -> None:
        self._new.extend((term, hukou_region, person_id) for term in name_keys.sorted_terms(name))

    def move(self, person_id: int, hukou_region: str) -> None:
        self._moved.append({"person": person_id, "county": hukou_region})

    def flush(self) -> None:
        if self._new:
            self._new.sort()
            insert_rows(self.connection, TERMS, ("term", "hukou_region", "person_id"), self._new)
        if self._moved:
            statement = (
                update(TERMS).where(TERMS.c.person_id == bindparam("person")).values(hukou_region=bindparam("county"))
            )
            self.connection.execute(statement, self._moved)
        self._new, self._moved = [], []
