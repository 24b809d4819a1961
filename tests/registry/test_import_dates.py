from __future__ import annotations

from datetime import date

import pytest

from bangfu.registry.imports.dates import excel_serial_to_date, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("44197", date(2021, 1, 1)),
        ("44197.0", date(2021, 1, 1)),
        ("44197.75", date(2021, 1, 1)),  # a time of day is dropped
        ("1", date(1900, 1, 1)),
        ("59", date(1900, 2, 28)),
        ("61", date(1900, 3, 1)),  # the day after Lotus's fictitious 1900-02-29
        ("1899", date(1905, 3, 13)),  # not a plausible year, so a serial day
        ("2021-01-01", date(2021, 1, 1)),
        ("2021/1/1", date(2021, 1, 1)),
        ("2021.1.1", date(2021, 1, 1)),
        ("2021年1月1日", date(2021, 1, 1)),
        ("2021 年 1 月 1 日", date(2021, 1, 1)),
        ("2021年12月31号", date(2021, 12, 31)),
        ("20210101", date(2021, 1, 1)),
        ("２０２１－０１－０１", date(2021, 1, 1)),
        (" 2021-01-01 ", date(2021, 1, 1)),
        ("2021-01-01 00:00:00", date(2021, 1, 1)),
        ("2021-03-05 08:30", date(2021, 3, 5)),
    ],
)
def test_accepted_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_1904_date_system_counts_from_1904() -> None:
    assert parse_date("0", date_system=1904) == date(1904, 1, 1)
    assert parse_date("42735", date_system=1904) == date(2021, 1, 1)
    assert excel_serial_to_date(44197) == date(2021, 1, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("60", "1900-02-29"),
        ("0", "早于 1900-01-01"),
        ("2021-02-30", "日期不存在"),
        ("20210230", "日期不存在"),
        ("2021年13月1日", "日期不存在"),
        ("明天", "日期格式不正确"),
        ("", "日期格式不正确"),
        ("2021-01", "日期格式不正确"),
        ("123456", "日期格式不正确"),
        ("2021", "只有年份"),
        ("1995", "只有年份"),
    ],
)
def test_refused_forms_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date(text)
