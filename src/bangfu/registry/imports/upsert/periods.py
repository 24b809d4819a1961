"""Dated memberships (a person's categories, an organization's recognitions) kept in step with a roster.

A roster says what holds now, without dates. The registry keeps periods, so an import compares the
roster with the periods current on the import day: a code the roster adds starts that day; a code it
no longer lists ends the day before (a period that itself started that day is removed instead, as it
would otherwise end before it began); codes outside ``managed`` are left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, or_, select, update

from bangfu.registry.imports.upsert.base import Change
from bangfu.registry.imports.upsert.bulk_io import insert_rows, rows_in


class CurrentPeriods:
    """The periods of ``table`` current on ``today`` for a batch of owners, and the writes planned on them."""

    def __init__(self, connection: Connection, table: Table, owner: str, code: str, today: dt.date) -> None:
        self.connection = connection
        self.table = table
        self.owner = owner
        self.code = code
        self.today = today
        self._current: dict[int, dict[str, list[tuple[int, dt.date]]]] = {}
        self._add: list[tuple[int, str, dt.date]] = []
        self._close: list[dict[str, Any]] = []
        self._delete: list[int] = []

    def load(self, owner_ids: Iterable[int]) -> None:
        table = self.table
        query = select(table.c.id, table.c[self.owner], table.c[self.code], table.c.start_date).where(
            table.c.start_date <= self.today,
            or_(table.c.end_date.is_(None), table.c.end_date >= self.today),
        )
        self._current = {}
        for row_id, owner_id, code, start in rows_in(self.connection, query, table.c[self.owner], owner_ids):
            self._current.setdefault(owner_id, {}).setdefault(code, []).append((row_id, start))

    def start(self, owner_id: int, codes: Iterable[str]) -> None:
        """Periods starting today for a new owner."""
        today = self.today
        self._add.extend((owner_id, code, today) for code in codes)

    def align(self, owner_id: int, wanted: Collection[str], managed: Collection[str], field: str) -> Change | None:
        """Plan the writes that make the current ``managed`` codes equal ``wanted``; the change, if any."""
        held = self._current.get(owner_id, {})
        before = {code for code in held if code in managed}
        after = set(wanted)
        if before == after:
            return None
        self.start(owner_id, sorted(after - before))
        yesterday = self.today - dt.timedelta(days=1)
        for code in before - after:
            for row_id, start in held[code]:
                if start >= self.today:
                    self._delete.append(row_id)
                else:
                    self._close.append({"row_id": row_id, "new_end": yesterday})
        return Change(field, ",".join(sorted(before)) or None, ",".join(sorted(after)) or None)

    def flush(self) -> None:
        table = self.table
        if self._add:
            insert_rows(self.connection, table, (self.owner, self.code, "start_date"), self._add)
        if self._close:
            statement = update(table).where(table.c.id == bindparam("row_id")).values(end_date=bindparam("new_end"))
            self.connection.execute(statement, self._close)
        if self._delete:
            self.connection.execute(delete(table).where(table.c.id.in_(self._delete)))
        self._add, self._close, self._delete = [], [], []
