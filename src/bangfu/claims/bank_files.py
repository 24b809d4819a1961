"""The bank file Bangfu sends and the return file the bank sends back (layout: docs/payments.md).

CSV, UTF-8 with a byte-order mark (Excel and WPS then read the Chinese right), one line per payment
with its unique reference. Text cells are neutralised against formulas (core/spreadsheet_safety):
a payee registered as ``=HYPERLINK(…)`` is a name in the file, never a live formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bangfu.claims.kill_points import stall
from bangfu.core.spreadsheet_safety import neutralize, restore

BANK_COLUMNS = ("支付流水号", "收款人", "收款账号", "收款银行", "金额（元）", "金额（分）", "资金", "摘要")
RETURN_COLUMNS = ("支付流水号", "处理结果", "金额（分）", "银行说明", "处理日期")
RESULTS = {"成功": "paid", "失败": "failed", "退汇": "reversed"}


class ReturnFileError(ValueError):
    """The return file cannot be read as the documented layout; the message says where and why."""


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def bank_file_text(lines: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_COLUMNS)
    for line in lines:
        writer.writerow(
            [
                line["reference"],
                neutralize(line["payee_name"]),
                neutralize(line["payee_account"]),
                neutralize(line["payee_bank"] or ""),
                _yuan(line["amount_fen"]),
                str(line["amount_fen"]),
                line["fund_label"],
                neutralize(line["memo"]),
            ]
        )
    return "\ufeff" + out.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Write to a sibling file and rename: a killed export leaves the old file or the new one, never half."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="")
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


def read_return_file(path: Path) -> list[ReturnLine]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReturnFileError(f"找不到回单文件 {path}") from None
    except UnicodeDecodeError:
        raise ReturnFileError(f"回单文件 {path} 不是 UTF-8 编码，请另存为 UTF-8 CSV") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip() for c in rows[0][: len(RETURN_COLUMNS)]) != RETURN_COLUMNS:
        raise ReturnFileError(f"回单文件 {path} 的表头应为：{'，'.join(RETURN_COLUMNS)}")
    lines: list[ReturnLine] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(RETURN_COLUMNS):
            raise ReturnFileError(f"回单文件第 {number} 行少于 {len(RETURN_COLUMNS)} 列")
        reference, result, amount, message, day = (restore(cell.strip()) for cell in row[: len(RETURN_COLUMNS)])
        if result not in RESULTS:
            raise ReturnFileError(f"回单文件第 {number} 行的处理结果 {result!r} 应为 成功、失败 或 退汇")
        if not amount.isdigit():
            raise ReturnFileError(f"回单文件第 {number} 行的金额（分）{amount!r} 应为整数")
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            raise ReturnFileError(f"回单文件第 {number} 行的处理日期 {day!r} 应为 YYYY-MM-DD") from None
        lines.append(ReturnLine(number, reference, RESULTS[result], int(amount), message, date))
    return lines
