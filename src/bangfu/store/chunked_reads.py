"""A query's result as a stream of Arrow tables, never the whole result in Python objects.

PostgreSQL: ``COPY (query) TO STDOUT`` as CSV. libpq hands over one row per read, so rows are only
collected as bytes and parsed a few megabytes at a time by Arrow's CSV reader (in C++). SQLite: a
cursor read ``fetchmany`` at a time, converted column by column.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection

CHUNK_BYTES = 32 * 1024 * 1024
CHUNK_ROWS = 100_000


def _csv_options(schema: pa.Schema) -> tuple[pacsv.ReadOptions, pacsv.ConvertOptions]:
    read = pacsv.ReadOptions(column_names=schema.names, block_size=CHUNK_BYTES)
    convert = pacsv.ConvertOptions(
        column_types=schema,
        # PostgreSQL's CSV: NULL is an empty unquoted field, an empty string is "", booleans are t/f.
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )
    return read, convert


def postgres_chunks(connection: Connection, sql: str, schema: pa.Schema) -> Iterator[pa.Table]:
    """``sql``'s rows in ``schema`` (its columns in order; a list column arrives as its text)."""
    read, convert = _csv_options(schema)
    dbapi: Any = connection.connection.driver_connection

    def parse(rows: list[bytes]) -> pa.Table:
        return pacsv.read_csv(io.BytesIO(b"".join(rows)), read_options=read, convert_options=convert)

    with dbapi.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        rows: list[bytes] = []
        size = 0
        while row := copy.read():
            rows.append(bytes(row))
            size += len(row)
            if size >= CHUNK_BYTES:
                yield parse(rows)
                rows, size = [], 0
        if rows:
            yield parse(rows)


def _arrow_column(values: tuple[Any, ...], kind: pa.DataType) -> pa.Array:
    # SQLite hands back dates as ISO text and booleans as 0/1; Arrow's casts read both.
    if pa.types.is_date(kind):
        return pa.array(values, type=pa.string()).cast(kind)
    if pa.types.is_boolean(kind):
        return pa.array(values, type=pa.int64()).cast(kind)
    return pa.array(values, type=kind)


def sqlite_chunks(connection: Connection, sql: str, schema: pa.Schema) -> Iterator[pa.Table]:
    dbapi: Any = connection.connection.driver_connection
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK_ROWS):
            columns = list(zip(*rows, strict=True))  # rows to columns
            yield pa.table(
                [_arrow_column(values, field.type) for values, field in zip(columns, schema, strict=True)],
                schema=schema,
            )
    finally:
        cursor.close()


def query_chunks(connection: Connection, sql: str, schema: pa.Schema) -> Iterator[pa.Table]:
    if connection.dialect.name == "postgresql":
        return postgres_chunks(connection, sql, schema)
    if connection.dialect.name == "sqlite":
        return sqlite_chunks(connection, sql, schema)
    raise ValueError(f"不支持的数据库类型 {connection.dialect.name}：仅支持 PostgreSQL 与 SQLite")
