"""What every back end offers: Parquet tables, small helper tables, a query run into a named result."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class BackendError(RuntimeError):
    """The back end could not run (missing engine, failed start, failed job); the message is for users."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Backend(Protocol):
    name: str

    def register_parquet(self, table: str, path: Path | str) -> None:
        """A view of the Parquet file (or folder of parts) at ``path``: a local path, or for Spark a URI."""
        ...

    def distinct(self, table: str, column: str) -> list[str]: ...

    def register_rows(self, name: str, rows: list[dict[str, object]]) -> None: ...

    def materialize(self, name: str, sql: str, path: Path | None = None) -> None:
        """Run ``sql`` once into table ``name``; with ``path``, the table is that Parquet file."""
        ...

    def fetch(self, sql: str) -> list[dict[str, Any]]: ...

    def write_parquet(self, name: str, path: Path) -> None: ...

    def close(self) -> None: ...
