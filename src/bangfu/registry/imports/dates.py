"""Dates as county spreadsheets write them: Excel serial numbers and the usual Chinese text forms."""

from __future__ import annotations

import re
from datetime import date, timedelta

# Excel's 1900 date system counts 1900-01-01 as day 1 and, copying Lotus 1-2-3, pretends that
# 1900-02-29 existed as day 60; every later serial is therefore one day ahead of a plain count.
_EXCEL_1900_BEFORE_BUG = date(1899, 12, 31)
_EXCEL_1900_AFTER_BUG = date(1899, 12, 30)
_EXCEL_LOTUS_DAY = 60
_EXCEL_1904_EPOCH = date(1904, 1, 1)

# Five digits reach the year 2173; longer numbers are compact yyyymmdd text, never serials.
_SERIAL = re.compile(r"(\d{1,5})(?:\.\d+)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SEPARATED = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_CHINESE = re.compile(r"(\d{4}) ?年 ?(\d{1,2}) ?月 ?(\d{1,2}) ?[日号]?")
_SPACES = re.compile(r"[\s\u3000]+")
_FULL_WIDTH_DIGITS = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"／": "/", "－": "-", "．": "."})

_YEAR_LIKE = (1900, 2100)

FORMS_ZH = "2021-01-01、2021/1/1、2021年1月1日、20210101 或 Excel 日期"


def excel_serial_to_date(serial: int, *, date_system: int = 1900) -> date:
    """The calendar date of an Excel serial day number (the fraction, a time of day, is dropped)."""
    if date_system == 1904:
        return _EXCEL_1904_EPOCH + timedelta(days=serial)
    if serial < 1:
        raise ValueError(f"Excel 日期序号 {serial} 早于 1900-01-01")
    if serial == _EXCEL_LOTUS_DAY:
        raise ValueError("Excel 日期序号 60 表示 1900-02-29，这一天并不存在")
    if serial < _EXCEL_LOTUS_DAY:
        return _EXCEL_1900_BEFORE_BUG + timedelta(days=serial)
    return _EXCEL_1900_AFTER_BUG + timedelta(days=serial)


def _calendar(text: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"日期不存在：“{text}”") from None


def parse_date(text: str, *, date_system: int = 1900) -> date:
    """Parse one cell into a date, or raise ValueError with a message county staff can act on.

    ``date_system`` is the workbook's (1900 or 1904); it only matters for serial numbers.
    """
    cleaned = _SPACES.sub(" ", text.translate(_FULL_WIDTH_DIGITS)).strip()
    if match := _SERIAL.fullmatch(cleaned):
        serial = int(match.group(1))
        # "2021" is far more likely a year than serial day 2021 (1905-07-13): refuse to guess.
        if len(match.group(1)) == 4 and _YEAR_LIKE[0] <= serial <= _YEAR_LIKE[1] and "." not in cleaned:
            raise ValueError(f"日期“{text}”只有年份，请填写完整的年月日（可写 {FORMS_ZH}）")
        return excel_serial_to_date(serial, date_system=date_system)
    for pattern in (_COMPACT, _SEPARATED, _CHINESE):
        if match := pattern.fullmatch(cleaned):
            return _calendar(text, *match.groups())
    raise ValueError(f"日期格式不正确：“{text}”（可写 {FORMS_ZH}）")
