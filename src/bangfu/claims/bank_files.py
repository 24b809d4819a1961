"""The bank file Bangfu sends and the return file the bank sends back (layout: docs/payments.md).

The bank file: CSV, UTF-8 with a byte-order mark (Excel and WPS then read the Chinese right), or XLSX
with the same columns; one line per payment with its unique reference. Text cells are neutralised
against formulas (core/spreadsheet_safety): a payee registered as ``=HYPERLINK(…)`` is a name in the
file, never a live formula. The return file: CSV (UTF-8 or GBK) or XLSX, read by the registry's
defensive reader (size limits, zip-bomb checks), so a bank's XLSX is opened as carefully as a roster.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped, unused-ignore]

from bangfu.claims.kill_points import stall
from bangfu.core.spreadsheet_safety import neutralize
from bangfu.registry.imports.reading import open_table
from bangfu.registry.imports.rows import ReadError, Rejection

BANK_COLUMNS = ("支付流水号", "收款人", "收款账号", "收款银行", "金额（元）", "金额（分）", "资金", "摘要")
RETURN_COLUMNS = ("支付流水号", "处理结果", "金额（分）", "银行说明", "处理日期")
RESULTS = {"成功": "paid", "失败": "failed", "退汇": "reversed"}


class ReturnFileError(ValueError):
    """The return file cannot be read as the documented layout; the message says where and why."""


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def _cells(line: dict[str, Any]) -> list[str]:
    """One payment as the bank file's text cells, in BANK_COLUMNS order, formulas neutralised."""
    return [
        line["reference"],
        neutralize(line["payee_name"]),
        neutralize(line["payee_account"]),
        neutralize(line["payee_bank"] or ""),
        _yuan(line["amount_fen"]),
        str(line["amount_fen"]),
        line["fund_label"],
        neutralize(line["memo"]),
    ]


def bank_file_text(lines: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_COLUMNS)
    for line in lines:
        writer.writerow(_cells(line))
    return "\ufeff" + out.getvalue()


# 金额（分） is the one number cell (an integer, exact); every other cell is a string cell, which Excel and
# WPS show and keep as text: a 19-digit account or a reference never becomes 6.217E+18, a leading zero is
# never lost. openpyxl writes a string starting with "=" as a formula, and ``_cells`` has neutralised every
# such text already. No per-cell style: it would double the time of a 100,000-line file (ADR 0033).
_FEN_COLUMN = BANK_COLUMNS.index("金额（分）")
_WIDTHS = (22, 16, 24, 20, 12, 12, 26, 30)


def bank_file_xlsx(lines: Iterable[dict[str, Any]]) -> bytes:
    """The same columns and cells as the CSV, as one XLSX sheet (write-only: a 100,000-line batch streams)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("银行代发")
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for label in BANK_COLUMNS:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for line in lines:
        cells: list[str | int] = list(_cells(line))
        cells[_FEN_COLUMN] = int(line["amount_fen"])
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write to a sibling file and rename: a killed export leaves the old file or the new one, never half."""
    partial = path.with_name(path.name + ".partial")
    if isinstance(content, bytes):
        partial.write_bytes(content)
    else:
        partial.write_text(content, encoding="utf-8", newline="")
    stall("export_file")
    partial.replace(path)


@dataclass(frozen=True)
class ReturnLine:
    line: int
    reference: str
    result: str  # paid | failed | reversed
    amount_fen: int
    message: str
    date: dt.date


_FIX = "请改正后重新导入整个文件（本文件各行均未处理）"


def read_return_file(path: Path) -> list[ReturnLine]:
    """The bank's return (CSV in UTF-8 or GBK, or XLSX; header as RETURN_COLUMNS), or ReturnFileError
    saying which line is wrong, what is wrong with it and how to fix it. Nothing is applied from a
    file with a bad line: a half-read return would leave the batch half-known."""
    if not path.is_file():
        raise ReturnFileError(f"找不到回单文件 {path}：请检查文件名和所在目录")
    try:
        table = open_table(path, header_rows=1)
    except ReadError as exc:
        raise ReturnFileError(f"回单文件“{path.name}”无法读取：{exc}") from None
    with table:
        header = tuple(cell.strip() for cell in table.header[: len(RETURN_COLUMNS)])
        if header != RETURN_COLUMNS:
            raise ReturnFileError(
                f"回单文件“{path.name}”第 {table.header_line} 行的表头为“{'，'.join(table.header) or '（空）'}”，"
                f"应依次为：{'，'.join(RETURN_COLUMNS)}。请改正表头（列名和顺序须一致）后重新导入"
            )
        lines: list[ReturnLine] = []
        try:
            rows = list(table.rows())
        except ReadError as exc:
            raise ReturnFileError(f"回单文件“{path.name}”无法读取：{exc}") from None
    for row in rows:
        if isinstance(row, Rejection):
            raise ReturnFileError(f"回单文件第 {row.line} 行无法读取：{row.reason_zh}。{_FIX}")
        reference, result, amount, message, day = (row.values[c].strip() for c in RETURN_COLUMNS)
        where = f"回单文件第 {row.line} 行"
        if not reference:
            raise ReturnFileError(f"{where}没有支付流水号：请填写银行文件中的支付流水号。{_FIX}")
        if result not in RESULTS:
            raise ReturnFileError(f"{where}的处理结果“{result}”无法识别：应为 成功、失败 或 退汇。{_FIX}")
        if not amount.isdigit():
            raise ReturnFileError(f"{where}的金额（分）“{amount}”不是整数：应为以分计的金额，如 80000。{_FIX}")
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            raise ReturnFileError(f"{where}的处理日期“{day}”无效：应为 年-月-日，如 2024-07-05。{_FIX}") from None
        lines.append(ReturnLine(row.line, reference, RESULTS[result], int(amount), message, date))
    return lines
