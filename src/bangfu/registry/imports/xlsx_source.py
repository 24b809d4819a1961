"""Stream the rows of an XLSX worksheet as text cells, without loading the workbook into memory."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils.datetime import CALENDAR_MAC_1904  # type: ignore[import-untyped, unused-ignore]

from bangfu.registry.imports.rows import ReadError

# Integers stored as floats are exact up to 2**53; beyond that (an 18-digit ID number typed as a
# number, for instance) the digits are already lost and must be shown as Excel holds them.
_EXACT_FLOAT_LIMIT = 2.0**53


def cell_text(value: object) -> str:
    """A cell value as the text a person sees, so that every row can be written back verbatim."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


class XlsxRows:
    """Iterates one worksheet as ``(row number, cells)``; ``close`` releases the file."""

    def __init__(self, path: Path, sheet: str | None = None) -> None:
        try:
            # data_only: a formula cell yields the value Excel last calculated, not the formula text.
            self._workbook = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise ReadError(
                f"无法打开 Excel 文件“{path.name}”：{error}；请确认是 .xlsx 格式（.xls 请先另存为 .xlsx）"
            ) from error
        names: list[str] = list(self._workbook.sheetnames)
        worksheets = list(self._workbook.worksheets)
        if not worksheets:
            self.close()
            raise ReadError(f"Excel 文件“{path.name}”中没有工作表")
        if sheet is None:
            self._sheet = worksheets[0]
        elif sheet in names:
            self._sheet = self._workbook[sheet]
        else:
            self.close()
            raise ReadError(f"Excel 文件中没有名为“{sheet}”的工作表；现有工作表：{'、'.join(names)}")
        self.sheet_name: str = self._sheet.title
        self.date_system = 1904 if self._workbook.epoch == CALENDAR_MAC_1904 else 1900
        self.warnings: list[str] = []
        others = [ws.title for ws in worksheets if ws.title != self.sheet_name and self._may_have_data(ws)]
        if sheet is None and others:
            self.warnings.append(
                f"工作簿还有其他工作表（{'、'.join(others)}），本次只读取了第一张工作表“{self.sheet_name}”；"
                "其他工作表的数据需要另行导入"
            )
        # Some programs write a wrong size into the sheet, and read-only mode would cut rows or
        # columns to it; forgetting the size makes openpyxl read every cell that is there.
        self._sheet.reset_dimensions()

    @staticmethod
    def _may_have_data(worksheet: object) -> bool:
        max_row = getattr(worksheet, "max_row", None)
        max_column = getattr(worksheet, "max_column", None)
        return max_row is None or max_column is None or max_row > 1 or max_column > 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for number, values in enumerate(self._sheet.iter_rows(values_only=True), 1):
            yield number, [cell_text(value) for value in values]

    def close(self) -> None:
        self._workbook.close()
