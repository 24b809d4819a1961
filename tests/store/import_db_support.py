"""Helpers for the database import tests: valid ID numbers, small CSV and XLSX files, row counts."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import DeclarativeBase

from bangfu.core.citizen_id import check_digit

TODAY = dt.date(2024, 6, 30)
PEOPLE_HEADER = ["姓名", "身份证号", "户籍所在县", "人员类别", "劳动能力", "联系电话"]


def make_id(region: str = "141123", birth: str = "19800101", sequence: str = "123") -> str:
    """A valid 18-character ID number; an odd last sequence digit means male."""
    first17 = region + birth + sequence
    return first17 + check_digit(first17)


def person_row(
    id_number: str,
    name: str = "张三",
    county: str = "兴县",
    categories: str = "脱贫人口",
    capacity: str = "全劳力",
    phone: str = "13912345678",
) -> list[str]:
    return [name, id_number, county, categories, capacity, phone]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def count(engine: Engine, model: type[DeclarativeBase]) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


def rejects_rows(path: Path | None) -> list[list[str]]:
    """The rows of a rejects file (header included), read as Excel would (UTF-8 with BOM)."""
    assert path is not None
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))
