"""From a file path to validated results in one object: open, map the header, validate, count.

This is the database-independent half of an import; the database half consumes ``results()``
and writes the rejections with ``RejectsWriter(path, source.table.header)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType

from bangfu.registry.imports.headers import ColumnMap, accepts, map_columns
from bangfu.registry.imports.reading import Table, open_table
from bangfu.registry.imports.records import Record
from bangfu.registry.imports.rows import RawRow, Rejection
from bangfu.registry.imports.validate import make_validator


@dataclass
class ImportCounts:
    records: int = 0
    rejected: int = 0


class ImportFile:
    """``with ImportFile(path, "people") as source: for result in source.results(): ...``

    Raises ``ReadError`` when the file cannot be read and ``HeaderError`` when its header lacks
    required columns, before any row is read.
    """

    def __init__(self, path: Path | str, kind: str, *, sheet: str | None = None, today: date | None = None) -> None:
        self.kind = kind
        self.today = today
        self.table: Table = open_table(path, sheet=sheet, header_accepts=accepts(kind))
        try:
            self.columns: ColumnMap = map_columns(kind, self.table.header)
        except BaseException:
            self.table.close()
            raise
        self.counts = ImportCounts()

    def results(self) -> Iterator[Record | Rejection]:
        """Each data row as a record or a rejection, in file order (blank rows are only counted)."""
        for result, _row in self.results_with_rows():
            yield result

    def results_with_rows(self) -> Iterator[tuple[Record | Rejection, RawRow | None]]:
        """``results`` paired with the row each record came from (None for a row refused while reading).

        The database stage needs the row to write its own refusals verbatim and to read the columns
        kept only for checking (the 姓名 beside an ID number in employment and training files).
        """
        validator = make_validator(self.columns, today=self.today, date_system=self.table.date_system)
        for row in self.table.rows():
            result = row if isinstance(row, Rejection) else validator(row)
            if isinstance(result, Rejection):
                self.counts.rejected += 1
            else:
                self.counts.records += 1
            yield result, row if isinstance(row, RawRow) else None

    def close(self) -> None:
        self.table.close()

    def __enter__(self) -> ImportFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
