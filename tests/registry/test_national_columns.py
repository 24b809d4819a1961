"""The column-wise reading of a national CSV (``national_columns``) against the row-by-row reader:
every record, every refusal (line and reason) and every count must be the same, on the sample and on
damaged downloads whose cells take every form the column-wise path must hand to the row reader."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from tests.store.national_support import sample_table, write_national_csv

from bangfu.core import citizen_id
from bangfu.registry.imports import row_feed
from bangfu.registry.imports.national_columns import ColumnwiseNational
from bangfu.registry.imports.pipeline import ImportFile

TODAY = dt.date(2026, 12, 1)
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


def _wire(path: Path, *, columnwise: bool) -> tuple[list[Any], tuple[int, int, int]]:
    with ImportFile(path, "people", today=TODAY) as source:
        if columnwise:
            reader = ColumnwiseNational.open(source)
            assert reader is not None, "the column-wise path refused a file it should read"
            items = [item for batch in reader.wire_batches(7, row_feed._to_wire) for item in batch]
        else:
            batches = row_feed.wire_batches(source, None, 7, columnwise=False)
            items = [item for batch in batches for item in batch]
        return items, (source.counts.records, source.counts.rejected, source.table.blank_rows)


def _same_both_ways(path: Path) -> list[Any]:
    by_columns, counted_by_columns = _wire(path, columnwise=True)
    by_rows, counted_by_rows = _wire(path, columnwise=False)
    assert counted_by_columns == counted_by_rows
    assert len(by_columns) == len(by_rows)
    for left, right in zip(by_columns, by_rows, strict=True):
        assert left == right
    return by_rows


def _renumbered(number: object, copy: int) -> object:
    """Another valid ID number of the same region, birth date and sex for each copy of the sample."""
    if not isinstance(number, str) or len(number) != 18:
        return number
    first17 = number[:14] + f"{(int(number[14:17]) + 2 * copy) % 1000:03d}"
    return first17 + citizen_id.check_digit(first17)


def _damaged(rng: random.Random, copies: int) -> tuple[str, list[str], list[list[object]]]:
    title, header, rows = sample_table()
    person, head, household = (header.index(label) for label in ("证件号码", "户主证件号码", "户编号"))
    damaged: list[list[object]] = []
    for copy in range(copies):
        # Most copies are new people and households; the others repeat the first copy's (refused as repeats).
        fresh = copy if rng.random() < 0.8 else 0
        for row in rows:
            row = list(row)
            row[person], row[head] = _renumbered(row[person], fresh), _renumbered(row[head], fresh)
            row[household] = f"{row[household]}{fresh:02d}"
            if rng.random() < 0.6:
                for label in rng.sample(sorted(DAMAGE), rng.randint(1, 3)):
                    row[header.index(label)] = rng.choice(DAMAGE[label])
            damaged.append(row)
    return title, header, damaged


def test_the_sample_reads_the_same_column_wise(tmp_path: Path) -> None:
    results = _same_both_ways(write_national_csv(tmp_path / "人口信息.csv", sample_table(), "utf-8"))
    assert len(results) == 33 and all(accepted for accepted, *_rest in results)


@pytest.mark.parametrize("seed", [2021, 7])
def test_damaged_downloads_read_the_same_column_wise(tmp_path: Path, seed: int) -> None:
    path = write_national_csv(tmp_path / "人口信息.csv", _damaged(random.Random(seed), 40), "utf-8")
    results = _same_both_ways(path)
    refused = [item for item in results if not item[0]]
    # Both kinds occur, or the comparison proves nothing.
    assert len(results) - len(refused) >= 300 and len(refused) >= 300
    reasons = "".join(item[1][2] for item in refused)
    assert "首次出现在第" in reasons and "同一户只能有一个户主" in reasons


def test_lines_of_other_widths_blank_lines_of_commas_and_crlf_read_the_same(tmp_path: Path) -> None:
    title, header, rows = sample_table()
    path = write_national_csv(tmp_path / "人口信息.csv", (title, header, rows), "utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4] + ",多出的格"  # a filled cell beyond the header: refused by the row reader
    lines[5] = lines[5] + ",,"  # empty cells beyond the header: kept
    lines[6] = ",".join(lines[6].split(",")[:20])  # a short row
    lines.insert(8, "," * (len(header) - 1))  # a row of empty cells: counted as blank
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    results = _same_both_ways(path)
    assert any(not accepted for accepted, *_rest in results)


def test_a_file_the_columns_cannot_read_exactly_goes_row_by_row(tmp_path: Path) -> None:
    title, header, rows = sample_table()
    rows[3][header.index("务工企业名称")] = "太原,晋阳公司"  # written in quotes: a cell holding a comma
    path = write_national_csv(tmp_path / "人口信息.csv", (title, header, rows), "utf-8")
    with ImportFile(path, "people", today=TODAY) as source:
        assert ColumnwiseNational.open(source) is None
    # and the import's reading still takes every row, row by row
    with ImportFile(path, "people", today=TODAY) as source:
        items = [item for batch in row_feed.wire_batches(source, None, 50, columnwise=True) for item in batch]
    assert len(items) == 33 and all(accepted for accepted, *_rest in items)


def test_a_blank_line_above_the_title_keeps_every_line_number(tmp_path: Path) -> None:
    path = write_national_csv(tmp_path / "人口信息.csv", sample_table(), "utf-8")
    path.write_bytes(b"\n" + path.read_bytes())
    lines = []
    for columnwise in (True, False):
        with ImportFile(path, "people", today=TODAY) as source:
            batches = row_feed.wire_batches(source, None, 50, columnwise=columnwise)
            lines.append([item[1][0] for batch in batches for item in batch])
    assert lines[0] == lines[1] == list(range(4, 37))
