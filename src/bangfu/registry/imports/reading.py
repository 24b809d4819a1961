"""Open a county spreadsheet (CSV or XLSX) and stream its data rows under their header labels.

Nothing is loaded whole: a CSV is read record by record and an XLSX through openpyxl's read-only
mode, so memory stays flat however large the file; ``settings.ImportLimits`` bounds what a file may
hold (rows, columns, cell length, line length, unpacked XLSX size), so that no file can exhaust the
server, and a file past a limit is refused whole (``imports.limits``). Every data row comes out either as a
``RawRow`` or, when it cannot be read faithfully (wrong encoding, unclosed quote, more cells than
the header), as a ``Rejection`` carrying its line number; fully blank rows are skipped and only
counted.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from bangfu.core.spreadsheet_safety import QUOTE, restore
from bangfu.registry.imports.csv_source import ENCODING_LABELS, CsvRecords
from bangfu.registry.imports.dates import parse_date
from bangfu.registry.imports.header_rows import MAX_HEADER_ROWS, HeaderCheck, combine_header, header_depth
from bangfu.registry.imports.limits import ImportLimits, check_cells, check_width, refuse
from bangfu.registry.imports.rows import RawRow, ReadError, Rejection
from bangfu.registry.imports.xlsx_source import XlsxRows

__all__ = ["RawRow", "ReadError", "Rejection", "Table", "open_table", "parse_date"]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"

Item = tuple[int, list[str]] | Rejection


def _is_blank(cells: list[str]) -> bool:
    return not "".join(cells).strip()


def _file_format(path: Path) -> str:
    with path.open("rb") as stream:
        magic = stream.read(4)
    if magic == _OLE_MAGIC or path.suffix.lower() == ".xls":
        raise ReadError(f"“{path.name}”是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或“CSV UTF-8”后重新导入")
    if magic == _ZIP_MAGIC or path.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx"
    return "csv"


class Table:
    """An open spreadsheet: its header labels and a one-pass iterator over its data rows.

    Use as a context manager (or call ``close``) so that an XLSX file handle is released.
    """

    def __init__(
        self,
        path: Path,
        *,
        sheet: str | None = None,
        header_rows: int | None = None,
        header_accepts: HeaderCheck | None = None,
        limits: ImportLimits | None = None,
    ) -> None:
        self.path = path
        self.limits = limits or ImportLimits.from_env()
        self.format = _file_format(path)
        self.encoding: str | None = None
        self.date_system = 1900
        self.sheet_name: str | None = None
        self.warnings: list[str] = []
        self.blank_rows = 0
        self._xlsx: XlsxRows | None = None
        source: Iterable[Item]
        if self.format == "xlsx":
            self._xlsx = XlsxRows(path, sheet, self.limits)
            self.sheet_name = self._xlsx.sheet_name
            self.date_system = self._xlsx.date_system
            self.warnings.extend(self._xlsx.warnings)
            source = self._xlsx
        else:
            records = CsvRecords(path, limits=self.limits)
            self.encoding = records.encoding
            source = records
        self._source: Iterator[Item] = iter(source)
        self._items: Iterator[Item] = self._source
        try:
            self.header, self.header_line, self.header_depth = self._read_header(header_rows, header_accepts)
        except BaseException:
            self.close()
            raise
        self._started = False

    @property
    def encoding_label(self) -> str | None:
        return ENCODING_LABELS.get(self.encoding or "")

    def _next_non_blank(self) -> Item | None:
        for item in self._items:
            if isinstance(item, Rejection) or not _is_blank(item[1]):
                return item
            self.blank_rows += 1
        return None

    def _read_header(self, header_rows: int | None, accepts: HeaderCheck | None) -> tuple[list[str], int, int]:
        wanted = header_rows or MAX_HEADER_ROWS
        candidates: list[tuple[int, list[str]]] = []
        pending: list[Item] = []
        while len(candidates) < wanted:
            item = self._next_non_blank()
            if item is None:
                break
            if isinstance(item, Rejection):
                if not candidates:
                    raise ReadError(f"第 {item.line} 行（表头）无法读取：{item.reason_zh}")
                pending.append(item)
                break
            check_width(item[0], len(item[1]), self.limits)
            check_cells(item[0], item[1], self.limits)
            candidates.append(item)
        if not candidates:
            raise ReadError(f"“{self.path.name}”中没有任何数据（找不到表头行）")
        depth = header_rows or header_depth([cells for _, cells in candidates], accepts)
        depth = min(depth, len(candidates))
        header = combine_header([cells for _, cells in candidates[:depth]])
        # Rows read while looking for the header but not part of it are data and go back in front.
        self._items = itertools.chain(candidates[depth:], pending, self._items)
        return header, candidates[depth - 1][0], depth

    def rows(self) -> Iterator[RawRow | Rejection]:
        """The data rows, in file order; may be iterated only once."""
        if self._started:
            raise RuntimeError("rows() can only be iterated once per Table")
        self._started = True
        max_rows = self.limits.max_rows
        data_rows = 0
        for item in self._items:
            if isinstance(item, Rejection):
                data_rows += 1
                if data_rows > max_rows:
                    raise self._too_many_rows(item)
                yield item
                continue
            row = self.row(*item)
            if row is None:
                continue
            data_rows += 1
            if data_rows > max_rows:
                raise self._too_many_rows(item)
            yield row

    def row(self, line: int, cells: list[str]) -> RawRow | Rejection | None:
        """One record's cells as a data row, or its refusal; None for a blank row (counted)."""
        limits = self.limits
        # One join per row serves both checks below: it costs a fraction of a microsecond.
        joined = "".join(cells)
        if len(joined) > limits.max_cell_chars:  # only then can one cell be too long
            check_cells(line, cells, limits)
        if not joined.strip():
            self.blank_rows += 1
            return None
        if QUOTE in joined:
            # A roster or rejects file Bangfu wrote: its formula-proof apostrophes come off.
            cells = [restore(text) for text in cells]
        header = self.header
        width = len(header)
        if len(cells) > width:
            extra = cells[width:]
            if "".join(extra).strip():
                return Rejection(line, cells, self._overflow_reason(extra))
            if self.format == "xlsx":
                # Empty formatted cells to the right of the table are not part of the row.
                cells = cells[:width]
        elif len(cells) < width:
            return RawRow(line, dict(zip(header, [*cells, *[""] * (width - len(cells))], strict=True)), cells)
        return RawRow(line, dict(zip(header, cells, strict=False)), cells)

    def _too_many_rows(self, item: Item) -> ReadError:
        line = item.line if isinstance(item, Rejection) else item[0]
        return refuse(
            f"“{self.path.name}”的数据超过 {self.limits.max_rows:,} 行（读到第 {line:,} 行）",
            "max_rows",
            self.limits.max_rows,
            "行",
            "请把数据分成几个文件分别导入",
        )

    def _overflow_reason(self, extra: list[str]) -> str:
        filled = sum(1 for cell in extra if cell.strip())
        hint = "（可能某个单元格里有英文逗号却没有加引号，使后面的列错位）" if self.format == "csv" else ""
        return (
            f"列数超出表头：表头只有 {len(self.header)} 列，本行在表头以外还有 {filled} 个非空单元格{hint}，"
            "请核对后重新导入本行"
        )

    def close(self) -> None:
        close_source = getattr(self._source, "close", None)
        if close_source is not None:
            close_source()  # a generator: closes the CSV file it holds open
        if self._xlsx is not None:
            self._xlsx.close()
            self._xlsx = None

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def open_table(
    path: Path | str,
    *,
    sheet: str | None = None,
    header_rows: int | None = None,
    header_accepts: HeaderCheck | None = None,
    limits: ImportLimits | None = None,
) -> Table:
    """Open ``path`` (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030, or XLSX) and read its header.

    ``header_rows`` forces the number of header rows; otherwise it is found from merged-cell
    gaps, and ``header_accepts`` (see ``headers.accepts``) stops the search as soon as the header
    holds every required column. Raises ``ReadError`` when the file cannot be read at all.
    """
    file = Path(path)
    if not file.is_file():
        raise ReadError(f"找不到文件“{file}”")
    return Table(file, sheet=sheet, header_rows=header_rows, header_accepts=header_accepts, limits=limits)
