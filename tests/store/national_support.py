"""The national monitoring system's person-table sample (tests/data) and variants of it for the import tests."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from bangfu.core import citizen_id

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "national-persons-sample.xlsx"
DATA_ROWS = 33  # persons in the sample, on sheet rows 3 to 35
HOUSEHOLDS = 12


def sample_table() -> tuple[str, list[str], list[list[Any]]]:
    """The sample's title, header and data rows, cells as stored (None for an empty cell)."""
    workbook = openpyxl.load_workbook(SAMPLE, read_only=True)
    try:
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    return str(rows[0][0]), [str(cell) for cell in rows[1]], rows[2:]


def edited(change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> tuple[str, list[str], list[list[Any]]]:
    """The sample with ``change`` applied to each row as a {column: cell} dict (None drops the row)."""
    title, header, rows = sample_table()
    kept = []
    for row in rows:
        result = change(dict(zip(header, row, strict=True)))
        if result is not None:
            kept.append([result[label] for label in header])
    return title, header, kept


def without_columns(labels: Sequence[str]) -> tuple[str, list[str], list[list[Any]]]:
    title, header, rows = sample_table()
    keep = [index for index, label in enumerate(header) if label not in labels]
    return title, [header[i] for i in keep], [[row[i] for i in keep] for row in rows]


def write_national_xlsx(path: Path, table: tuple[str, list[str], list[list[Any]]]) -> Path:
    title, header, rows = table
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "人口信息"
    sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_national_csv(path: Path, table: tuple[str, list[str], list[list[Any]]], encoding: str) -> Path:
    title, header, rows = table
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return path


# Cells a county's download really gets wrong (as in test_national_household_cache), and the forms of a
# good value that only the row reader accepts: each must come out the same either way.
DAMAGE = {
    "县": ["", "杭州市", "不存在县", " 阳曲县 "],
    "乡": ["", "不存在乡"],
    "户编号": ["", "1.40121E+17", " 140121001 ", "A140121"],
    "人口编号": ["", "P-1"],
    "户主证件号码": ["", "140121198001011235", "1.40121E+17", "14012119800101123x"],
    "户主姓名": ["", "张 三", "Zhang San"],
    "户类型": ["", "贫困户", "监测户 "],
    "监测对象类别": ["未知户", "边缘易致贫户"],
    "风险是否已消除": ["也许", "是"],
    "年度": ["", "1999", "明年", "2025年"],
    "户联系电话": ["123", "0351-1234567", " 13912345678"],
    "成员联系电话": ["123", "+8613912345678", "13912345678"],
    "证件号码": [
        "",
        "140121198001011235",
        "１４０１２１１９８００１０１１２３４",
        "14012119800101123x",
        "140121800101123",
    ],
    "姓名": ["", "王  五", "A" * 60],
    "与户主关系": ["", "户主", "配偶 "],
    "劳动技能": ["全能", "全劳力", ""],
    "务工时间（月）": ["13", "10.0", "6个月", " "],
    "出生日期": ["1900-01-01", "1980/01/01", ""],
    "性别": ["未知", "男", "女"],
    "是否享受低保": ["也许", "否"],
    "务工企业名称": ["公司" * 120, "  ", "太原\t公司", "A\\B", "甲\u2028乙", "=1+1", "'=1+1"],
    "民族": ["  ", "汉族\x7f", "'+1", "\u3000"],
    "政治面貌": ["群众\u00a0", "\t"],
}


def renumbered(number: object, copy: int) -> object:
    """Another valid ID number of the same region, birth date and sex for each copy of the sample."""
    if not isinstance(number, str) or len(number) != 18:
        return number
    first17 = number[:14] + f"{(int(number[14:17]) + 2 * copy) % 1000:03d}"
    return first17 + citizen_id.check_digit(first17)


def damaged_table(rng: random.Random, copies: int) -> tuple[str, list[str], list[list[object]]]:
    title, header, rows = sample_table()
    person, head, household = (header.index(label) for label in ("证件号码", "户主证件号码", "户编号"))
    damaged: list[list[object]] = []
    for copy in range(copies):
        # Most copies are new people and households; the others repeat the first copy's (refused as repeats).
        fresh = copy if rng.random() < 0.8 else 0
        for row in rows:
            row = list(row)
            row[person], row[head] = renumbered(row[person], fresh), renumbered(row[head], fresh)
            row[household] = f"{row[household]}{fresh:02d}"
            if rng.random() < 0.6:
                for label in rng.sample(sorted(DAMAGE), rng.randint(1, 3)):
                    row[header.index(label)] = rng.choice(DAMAGE[label])
            damaged.append(row)
    return title, header, damaged
