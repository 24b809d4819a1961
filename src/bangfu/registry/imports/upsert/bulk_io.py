"""Reading and inserting a batch of rows at the speed a million-row import needs, on both back ends.

- ``rows_in``: the rows whose key is among a batch's keys; the keys travel as one parameter rather
  than thousands: an array on PostgreSQL (``= ANY(%s)``), a JSON array on SQLite (``IN (SELECT value
  FROM json_each(?))``). One parameter also lets SQLAlchemy compile the query once per import, where
  ``IN (?, ?, …)`` named and compiled five thousand parameters per batch.
- ``IdAllocator``: ids for new rows, drawn before inserting so that related rows (a person's
  categories) can refer to them without reading the new rows back.
- ``insert_rows``: PostgreSQL through ``COPY … FROM STDIN``, an order of magnitude faster than
  INSERT statements (with the foreign keys checked once per import where the import deferred them:
  ``references``); SQLite through the driver's ``executemany``, skipping SQLAlchemy's per-row
  parameter processing, which costs more than SQLite's own work.

All of it runs on the caller's connection, inside the import's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from typing import Any

from sqlalchemy import ARRAY, Column, Connection, Select, String, Table, any_, bindparam, func, literal_column, select

from bangfu.registry.imports.upsert.references import deferred


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def rows_in(connection: Connection, query: Select[Any], column: Column[Any], values: Iterable[Any]) -> list[Any]:
    """``query`` restricted to ``column`` among ``values`` (one batch: a few thousand values at most)."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return []
    if _is_postgresql(connection):
        restricted = query.where(column == any_(bindparam("wanted", type_=ARRAY(column.type))))
        return list(connection.execute(restricted, {"wanted": wanted}).all())
    # Keys are ID numbers, codes and row ids: strings and integers, which JSON carries as they are.
    keys: Select[Any] = select(literal_column("value")).select_from(func.json_each(bindparam("wanted", type_=String)))
    return list(
        connection.execute(query.where(column.in_(keys.scalar_subquery())), {"wanted": json.dumps(wanted)}).all()
    )


class IdAllocator:
    """Hands out ids for new rows of one table, a contiguous block per batch.

    Both back ends continue after the highest id in use (on PostgreSQL, after the sequence's last
    value too, which covers ids drawn by transactions that never committed), and PostgreSQL's
    sequence is then moved past the block so that later inserts by anyone else follow on. Safe
    because no one else can insert meanwhile: on PostgreSQL the import holds a lock on the table
    that blocks other writers (``LOCK TABLE … SHARE ROW EXCLUSIVE``, taken before any row is
    read), on SQLite it holds the database's only write lock from its first write (the batch record).
    """

    def __init__(self, connection: Connection, table: Table) -> None:
        self.connection = connection
        self.table = table
        self._next: int | None = None
        # The first id handed out: every row from it on was inserted by this import (None: no row yet).
        self.first_taken: int | None = None

    def _first_free(self) -> int:
        highest = int(
            self.connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {self.table.name}").scalar_one()
        )
        if _is_postgresql(self.connection):
            drawn = self.connection.exec_driver_sql(
                "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence(%(table)s, 'id')::regclass), 0)",
                {"table": self.table.name},
            ).scalar_one()
            highest = max(highest, int(drawn))
        return highest + 1

    def take(self, count: int) -> list[int]:
        if count == 0:
            return []
        if self._next is None:
            self._next = self.first_taken = self._first_free()
        first, self._next = self._next, self._next + count
        if _is_postgresql(self.connection):
            self.connection.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence(%(table)s, 'id'), %(last)s)",
                {"table": self.table.name, "last": self._next - 1},
            )
        return list(range(first, first + count))


# Dates reach SQLite as the ISO text SQLAlchemy's DATE type writes there, converted in C by the driver
# (its own default adapter is deprecated since Python 3.12; registering one is the documented way).
# Booleans need nothing: sqlite3 stores them as the integers 0 and 1, as SQLAlchemy does.
# ``datetime`` is a subclass but adapters match the exact type, so timestamps are not affected.
sqlite3.register_adapter(dt.date, dt.date.isoformat)


def insert_rows(connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``."""
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(column) for column in columns)
    driver: Any = connection.connection.driver_connection
    if _is_postgresql(connection):
        references = deferred(connection)
        with (
            references.copying(table) if references is not None else nullcontext(),
            driver.cursor() as cursor,
            cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" * len(columns))
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({placeholders})", rows)
    finally:
        cursor.close()


def insert_dicts(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``: COPY on PostgreSQL (``insert_rows``),
    SQLAlchemy's executemany on SQLite (its types write the dates and times as the rest of Bangfu reads them)."""
    if not rows:
        return
    if _is_postgresql(connection):
        columns = list(rows[0])
        insert_rows(connection, table, columns, [tuple(row[c] for c in columns) for row in rows])
        return
    for first in range(0, len(rows), 5_000):
        connection.execute(table.insert(), list(rows[first : first + 5_000]))


def id_in(connection: Connection, column: Column[Any], values: Sequence[Any]) -> Any:
    """``column IN values`` as one parameter (see ``rows_in``): an array on PostgreSQL, JSON on SQLite."""
    if _is_postgresql(connection):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    keys: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values)), type_=String))
    )
    return column.in_(keys.scalar_subquery())
