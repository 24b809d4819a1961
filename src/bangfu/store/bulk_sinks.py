"""Where bulk rows go: PostgreSQL through COPY, SQLite through batched executemany.

Both write Arrow tables whose column names are the store's, inside the caller's transaction, on the
DB-API connection under the SQLAlchemy one (so they share that transaction).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection

# Arrow writes what PostgreSQL's CSV format reads: NULL as an empty unquoted field, strings (the
# empty one too) in double quotes, dates as YYYY-MM-DD, booleans as true/false.
_CSV = pacsv.WriteOptions(include_header=False, batch_size=8192)
_PIECE_ROWS = 50_000  # rows rendered to CSV at a time: bounds the text held in memory


class Sink(Protocol):
    def lock(self, tables: Sequence[str]) -> None:
        """Keep other writers out of ``tables`` until the transaction ends."""

    def id_offsets(self, tables: Sequence[str]) -> dict[str, int]:
        """Per table, the highest id in use: the load numbers its rows after it."""

    def set_aside_checks(self, tables: Sequence[str]) -> None:
        """Loading into empty tables: unique and foreign-key checks may run once at the end instead."""

    def write(self, table: str, rows: pa.Table) -> None: ...

    def finish(self, keyed: Sequence[str], loaded: Sequence[str]) -> None:
        """After the last row: id generators past the ids the load assigned, statistics refreshed."""


class _Sink:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.quote = connection.dialect.identifier_preparer.quote
        self.dbapi: Any = connection.connection.driver_connection

    def _columns(self, rows: pa.Table) -> str:
        return ", ".join(self.quote(name) for name in rows.column_names)

    def _max_id(self, table: str) -> int:
        return int(
            self.connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {self.quote(table)}").scalar_one()
        )


# Foreign keys and unique constraints of the loaded tables, and their indexes that back no constraint.
# Primary keys stay: other tables' foreign keys depend on them.
_CONSTRAINTS = """
SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
FROM pg_constraint WHERE conrelid = ANY(%(tables)s::regclass[]) AND contype IN ('f', 'u')
ORDER BY contype = 'f', conrelid::regclass::text, conname
"""
_INDEXES = """
SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i
WHERE indrelid = ANY(%(tables)s::regclass[]) AND NOT EXISTS (
    SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
"""


class PostgresCopy(_Sink):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[tuple[str, str]] = []

    def lock(self, tables: Sequence[str]) -> None:
        # Blocks concurrent writes, not reads; taken before the ids in use are read.
        names = ", ".join(self.quote(t) for t in tables)
        self.connection.exec_driver_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")

    def id_offsets(self, tables: Sequence[str]) -> dict[str, int]:
        offsets = {}
        for table in tables:
            # A sequence value drawn by a transaction that never committed is taken as well.
            drawn = self.connection.exec_driver_sql(
                "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence(%(table)s, 'id')::regclass), 0)",
                {"table": table},
            ).scalar_one()
            offsets[table] = max(self._max_id(table), int(drawn))
        return offsets

    def set_aside_checks(self, tables: Sequence[str]) -> None:
        """Drop foreign keys, unique constraints and plain indexes, to be rebuilt exactly by ``finish``.

        Checking each row as it arrives (a trigger per foreign key, an index insertion per index) is
        most of a load's time; one join per foreign key and one sorted build per index at the end cost
        a fraction of it. Inside the load's transaction: if anything fails, the drops roll back too. The
        definitions come from the catalog (as pg_dump takes them), so what is rebuilt is what was there
        (a test compares the catalog before and after). The price: until the load commits, the loaded
        tables and ``regions`` are locked against readers too, which only an empty registry can afford.
        """
        parameters = {"tables": list(tables)}
        self.constraints = [tuple(r) for r in self.connection.exec_driver_sql(_CONSTRAINTS, parameters)]
        self.indexes = [tuple(r) for r in self.connection.exec_driver_sql(_INDEXES, parameters)]
        for table, name, _ in reversed(self.constraints):  # foreign keys first
            self.connection.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for index, _ in self.indexes:
            self.connection.exec_driver_sql(f"DROP INDEX {index}")

    def _rebuild_checks(self) -> None:
        # Sorts and hash joins over millions of rows: memory for this transaction only.
        self.connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        self.connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        for _, definition in self.indexes:
            self.connection.exec_driver_sql(definition)
        for table, name, definition in self.constraints:  # unique constraints first, then foreign keys
            self.connection.exec_driver_sql(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")

    def write(self, table: str, rows: pa.Table) -> None:
        statement = f"COPY {self.quote(table)} ({self._columns(rows)}) FROM STDIN (FORMAT csv)"
        with self.dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            for piece in rows.to_batches(max_chunksize=_PIECE_ROWS):
                text = io.BytesIO()
                pacsv.write_csv(piece, text, _CSV)
                copy.write(text.getbuffer())

    def finish(self, keyed: Sequence[str], loaded: Sequence[str]) -> None:
        self._rebuild_checks()
        for table in keyed:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence(%(table)s, 'id'), max(id)) FROM {self.quote(table)} "
                "HAVING max(id) IS NOT NULL",
                {"table": table},
            )
        # The planner's row estimates for the first queries after a load (autovacuum comes later).
        self.connection.exec_driver_sql(f"ANALYZE {', '.join(self.quote(t) for t in loaded)}")


def _python_column(column: pa.Array) -> list[Any]:
    # SQLAlchemy stores SQLite dates as ISO text; formatting them here keeps sqlite3's deprecated
    # date adapter out of it.
    if pa.types.is_date(column.type):
        column = pc.cast(column, pa.string())
    values: list[Any] = column.to_pylist()
    return values


class SQLiteBatches(_Sink):
    def lock(self, tables: Sequence[str]) -> None:
        del tables  # SQLite has one writer at a time; the first insert takes the database's write lock

    def id_offsets(self, tables: Sequence[str]) -> dict[str, int]:
        return {table: self._max_id(table) for table in tables}

    def set_aside_checks(self, tables: Sequence[str]) -> None:
        del tables  # SQLite declares unique constraints inside CREATE TABLE; they cannot be dropped

    def write(self, table: str, rows: pa.Table) -> None:
        placeholders = ", ".join("?" * rows.num_columns)
        statement = f"INSERT INTO {self.quote(table)} ({self._columns(rows)}) VALUES ({placeholders})"
        cursor = self.dbapi.cursor()
        try:
            for piece in rows.to_batches(max_chunksize=_PIECE_ROWS):
                cursor.executemany(statement, zip(*(_python_column(c) for c in piece.columns), strict=True))
        finally:
            cursor.close()

    def finish(self, keyed: Sequence[str], loaded: Sequence[str]) -> None:
        del keyed, loaded  # rowids continue after the highest id by themselves


@contextmanager
def _sqlite_without_sync(connection: Connection) -> Iterator[None]:
    """PRAGMA synchronous=OFF for the load only, the previous setting restored afterwards.

    Why: a load writes hundreds of megabytes in one transaction, and where SQLite has to wait for the
    disk at each sync those waits dominate: with a rollback journal (where WAL is unavailable, as on
    network file systems) it syncs at every cache spill, and slow disks make each sync expensive. In
    WAL mode on this project's test VM the gain is within noise (docs/benchmarks.md), since WAL only
    syncs at commit and checkpoint. The risk, a database damaged by a power cut or an OS crash (an
    application crash is harmless) while the load runs, ends with the load: the setting is restored
    and a checkpoint then copies the WAL into the database file with syncs on. Set before the load's
    transaction begins, on the connection the load uses.
    """
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    previous = int(dbapi.execute("PRAGMA synchronous").fetchone()[0])
    dbapi.execute("PRAGMA synchronous=OFF")
    try:
        yield
    finally:
        dbapi.execute(f"PRAGMA synchronous={previous}")
        dbapi.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextmanager
def open_sink(connection: Connection) -> Iterator[Sink]:
    """The sink for the connection's database; the caller begins the transaction after this."""
    if connection.dialect.name == "postgresql":
        yield PostgresCopy(connection)
    elif connection.dialect.name == "sqlite":
        with _sqlite_without_sync(connection):
            yield SQLiteBatches(connection)
    else:
        raise ValueError(f"不支持的数据库类型 {connection.dialect.name}：仅支持 PostgreSQL 与 SQLite")
