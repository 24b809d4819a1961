"""Stream the rows of an XLSX worksheet as text cells, without loading the workbook into memory.

An XLSX file is a zip of XML written by whoever sent it, so it is read defensively: the archive's
declared sizes and compression ratios are checked before anything is unpacked (zipfile never
unpacks a member past its declared size), the XML is parsed by defusedxml (openpyxl uses it when it
is installed: no entity expansion, no external entities), and rows are built here from openpyxl's
parser rather than its ``iter_rows``, which pads every row out to its last cell, so that one cell in
column XFD would turn each row into 16,384 values.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped, unused-ignore]
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils.datetime import CALENDAR_MAC_1904  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped, unused-ignore]
from openpyxl.worksheet._reader import WorkSheetParser  # type: ignore[import-untyped, unused-ignore]
from openpyxl.xml import DEFUSEDXML  # type: ignore[import-untyped, unused-ignore]

from bangfu.registry.imports.limits import ImportLimits, column_name, refuse
from bangfu.registry.imports.rows import FileRefused, ReadError

# Integers stored as floats are exact up to 2**53; beyond that (an 18-digit ID number typed as a
# number, for instance) the digits are already lost and must be shown as Excel holds them.
_EXACT_FLOAT_LIMIT = 2.0**53
# Excel's own sheet size: a row number past it was not written by Excel or WPS.
EXCEL_MAX_ROWS = 1_048_576
# Below this a member's compression ratio says nothing (tiny XML parts compress oddly) and costs nothing.
_RATIO_MIN_BYTES = 1024 * 1024
# What a hostile or damaged archive raises from zipfile, zlib, the XML parser or openpyxl's readers.
_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ParseError,
    InvalidFileException,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
)
_FIX = "请用 Excel 或 WPS 打开该文件，另存为新的 .xlsx 后重新导入"


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


def _root_cause(error: BaseException) -> BaseException:
    # openpyxl wraps what the XML parser raised in a ValueError of its own ("could not read strings").
    while error.__cause__ is not None or (error.__context__ is not None and not error.__suppress_context__):
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def damage_message(name: str, error: BaseException, row: int | None = None) -> str:
    """Why a damaged or hostile XLSX cannot be read, in words county staff can act on."""
    where = f"无法打开 Excel 文件“{name}”：" if row is None else f"无法读取 Excel 文件“{name}”第 {row:,} 行："
    error = _root_cause(error)
    if isinstance(error, DefusedXmlException):
        reason = (
            "文件含有 XML 实体声明或外部引用（Excel 和 WPS 保存的文件不会有），可能被篡改或恶意构造，为安全起见拒绝读取"
        )
    elif isinstance(error, IndexError):
        reason = "单元格引用了文件中不存在的共享文本，文件已损坏"
    elif isinstance(error, zipfile.BadZipFile | zlib.error | EOFError):
        reason = "文件已损坏或不完整（压缩包无法解开），可能拷贝或下载时中断；请重新拷贝原文件，或"
    elif isinstance(error, ParseError):
        reason = "文件内部的 XML 已损坏，无法解析"
    else:
        reason = "内容不符合 .xlsx 格式（.xls 请先另存为 .xlsx）"
    return f"{where}{reason}{'' if reason.endswith('或') else '；'}{_FIX}"


def check_archive(path: Path, limits: ImportLimits) -> None:
    """Refuse a zip whose unpacked size or compression ratio no real workbook has, before unpacking it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise FileRefused(damage_message(path.name, error)) from error
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > limits.max_xlsx_member_bytes:
            raise refuse(
                f"Excel 文件“{path.name}”的组成部分 {member.filename} 解压后有 {member.file_size:,} 字节",
                "max_xlsx_member_bytes",
                limits.max_xlsx_member_bytes,
                "字节",
                "请把数据分成几个文件分别导入",
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= _RATIO_MIN_BYTES and ratio > limits.max_xlsx_ratio:
            raise refuse(
                f"Excel 文件“{path.name}”的组成部分 {member.filename} 压缩比为 {ratio:,.0f} 倍"
                "（正常表格约为 5–30 倍，过高的压缩比是“压缩炸弹”的特征）",
                "max_xlsx_ratio",
                limits.max_xlsx_ratio,
                "倍",
                _FIX,
            )
    if total > limits.max_xlsx_bytes:
        raise refuse(
            f"Excel 文件“{path.name}”解压后共有 {total:,} 字节",
            "max_xlsx_bytes",
            limits.max_xlsx_bytes,
            "字节",
            "请把数据分成几个文件分别导入，或另存为 CSV 后导入",
        )


class XlsxRows:
    """Iterates one worksheet as ``(row number, cells)``; ``close`` releases the file."""

    def __init__(self, path: Path, sheet: str | None = None, limits: ImportLimits | None = None) -> None:
        if not DEFUSEDXML:
            raise FileRefused(
                "本机未启用安全的 XML 解析（需要安装 defusedxml，且不得设置环境变量 OPENPYXL_DEFUSEDXML=False），"
                "为安全起见不读取 .xlsx 文件；请联系管理员，或把表格另存为 CSV 后导入"
            )
        self.path = path
        self._limits = limits or ImportLimits.from_env()
        check_archive(path, self._limits)
        try:
            # data_only: a formula cell yields the value Excel last calculated, not the formula text.
            self._workbook = load_workbook(path, read_only=True, data_only=True)
        except _DAMAGE as error:
            raise FileRefused(damage_message(path.name, error)) from error
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

    @staticmethod
    def _may_have_data(worksheet: object) -> bool:
        max_row = getattr(worksheet, "max_row", None)
        max_column = getattr(worksheet, "max_column", None)
        return max_row is None or max_column is None or max_row > 1 or max_column > 1

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        # The sheet's declared size is ignored: some programs write a wrong one, and every cell
        # that is there is read (each row only as wide as its last non-empty cell).
        max_rows = min(self._limits.max_rows, EXCEL_MAX_ROWS)
        workbook, sheet = self._workbook, self._sheet
        last = 0
        parser: Any = None
        try:
            with sheet._get_source() as source:
                parser = WorkSheetParser(
                    source,
                    sheet._shared_strings,
                    data_only=True,
                    epoch=workbook.epoch,
                    date_formats=workbook._date_formats,
                    timedelta_formats=workbook._timedelta_formats,
                )
                for number, cells in parser.parse():
                    if number <= last:
                        continue  # a repeated row number: openpyxl keeps the first as well
                    if number > max_rows:
                        raise refuse(
                            f"Excel 文件“{self.path.name}”的工作表有第 {number:,} 行",
                            "max_rows",
                            max_rows,
                            "行",
                            "请把数据分成几个文件分别导入",
                        )
                    for missing in range(last + 1, number):
                        yield missing, []
                    last = number
                    yield number, self._row_text(number, cells)
        except ReadError:
            raise
        except _DAMAGE as error:
            row = getattr(parser, "row_counter", None) or last + 1
            raise FileRefused(damage_message(self.path.name, error, row)) from error

    def _row_text(self, number: int, cells: list[dict[str, Any]]) -> list[str]:
        width = 0
        for cell in cells:
            value = cell["value"]
            if value is None or value == "":
                continue  # formatted but empty: often whole rows out to column XFD
            column = cell["column"]
            if column > self._limits.max_columns:
                raise refuse(
                    f"第 {number} 行{column_name(column)}有内容",
                    "max_columns",
                    self._limits.max_columns,
                    "列",
                    "请删除表格右侧多余的列后重新导入",
                )
            width = max(width, column)
        values: list[object] = [None] * width
        for cell in cells:
            if cell["column"] <= width:
                values[cell["column"] - 1] = cell["value"]
        return [cell_text(value) for value in values]

    def close(self) -> None:
        self._workbook.close()
