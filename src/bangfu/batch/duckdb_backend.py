"""DuckDB: the default engine for a province on one server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bangfu.batch.base import BackendError, quote
from bangfu.batch.locations import is_remote, remote_refused


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, memory_limit: str = "1536MB", threads: int | None = None) -> None:
        self.con = duckdb.connect()
        # a bound on memory keeps a province-size run inside a shared server's budget; DuckDB spills past it
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def register_parquet(self, table: str, path: Path | str) -> None:
        if is_remote(path):
            raise BackendError(remote_refused(str(path)))
        literal_path = str(path).replace("'", "''")
        self.con.execute(f"CREATE OR REPLACE VIEW {quote(table)} AS SELECT * FROM read_parquet('{literal_path}')")

    def register_arrow(self, table: str, data: pa.Table) -> None:
        self.con.register(f"__arrow_{table}", data)
        self.con.execute(f"CREATE OR REPLACE VIEW {quote(table)} AS SELECT * FROM {quote('__arrow_' + table)}")

    def distinct(self, table: str, column: str) -> list[str]:
        rows = self.con.execute(
            f"SELECT DISTINCT {quote(column)} FROM {quote(table)} WHERE {quote(column)} IS NOT NULL"
        )
        return sorted(r[0] for r in rows.fetchall())

    def register_rows(self, name: str, rows: list[dict[str, object]]) -> None:
        self.register_arrow(name, pa.Table.from_pylist(rows))

    def materialize(self, name: str, sql: str, path: Path | None = None) -> None:
        if path is None:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(name)} AS {sql}")
            return
        # straight to the file: a province's results never need to sit in memory as a table too
        literal_path = str(path).replace("'", "''")
        self.con.execute(f"COPY ({sql}) TO '{literal_path}' (FORMAT parquet, COMPRESSION snappy)")
        self.register_parquet(name, path)

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def write_parquet(self, name: str, path: Path) -> None:
        literal_path = str(path).replace("'", "''")
        self.con.execute(f"COPY {quote(name)} TO '{literal_path}' (FORMAT parquet, COMPRESSION snappy)")

    def non_null_columns(self, table: str) -> frozenset[str]:
        """Columns that the table's schema declares NOT NULL (lets the compiler skip NULL tests)."""
        return non_null_columns(self.con, table)

    def close(self) -> None:
        self.con.close()


def non_null_columns(con: duckdb.DuckDBPyConnection, table: str) -> frozenset[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND is_nullable = 'NO'", [table]
    ).fetchall()
    return frozenset(r[0] for r in rows)
