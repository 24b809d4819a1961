"""A member's row whose household cells repeat the previous valid row's is checked without them:
every record and every refusal must read exactly as if each row had been checked whole."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from tests.store.national_support import sample_table, write_national_csv

from bangfu.registry.imports.pipeline import ImportFile
from bangfu.registry.imports.rows import Rejection
from bangfu.registry.imports.validate import make_validator

TODAY = dt.date(2026, 12, 1)
# Cells a county's download really gets wrong, for household columns and for a member's own.
DAMAGE = {
    "县": ["", "杭州市", "不存在县"],
    "乡": ["", "不存在乡"],
    "户编号": [""],
    "户主证件号码": ["", "140121198001011235", "1.40121E+17"],
    "户主姓名": [""],
    "户类型": ["", "贫困户"],
    "监测对象类别": ["未知户"],
    "年度": ["", "1999", "明年"],
    "户联系电话": ["123"],
    "证件号码": ["", "140121198001011235"],
    "姓名": [""],
    "人口编号": [""],
    "与户主关系": ["", "户主"],
    "劳动技能": ["全能"],
    "务工时间（月）": ["13"],
    "出生日期": ["1900-01-01"],
    "性别": ["未知"],
}


def _results(path: Path, *, cached: bool) -> list[object]:
    with ImportFile(path, "people", today=TODAY) as source:
        validator = make_validator(source.columns, today=TODAY, date_system=source.table.date_system)
        if not cached:
            validator._household_cells = lambda _row: object()  # type: ignore[attr-defined]  # never equal
        results: list[object] = []
        for row in source.table.rows():
            result = row if isinstance(row, Rejection) else validator(row)
            results.append([result.line, result.reason_zh] if isinstance(result, Rejection) else result)
        return results


def test_damaged_rows_read_the_same_with_and_without_the_household_cache(tmp_path: Path) -> None:
    title, header, rows = sample_table()
    rng = random.Random(2021)
    damaged: list[list[object]] = []
    for _copy in range(30):  # the sample four times: later copies repeat ID numbers and heads too
        for row in rows:
            row = list(row)
            if rng.random() < 0.5:  # one to three cells, so that problems meet and their order shows
                for label in rng.sample(sorted(DAMAGE), rng.randint(1, 3)):
                    row[header.index(label)] = rng.choice(DAMAGE[label])
            damaged.append(row)
    path = write_national_csv(tmp_path / "人口信息.csv", (title, header, damaged), "utf-8")

    with_cache = _results(path, cached=True)
    without = _results(path, cached=False)

    assert with_cache == without
    refused = [result for result in with_cache if isinstance(result, list)]
    accepted = len(with_cache) - len(refused)
    # Both kinds occur, or the comparison proves nothing: the first copy's undamaged rows are accepted.
    assert accepted >= 15 and len(refused) >= 40


def test_a_member_named_head_with_another_number_is_refused_on_the_cached_path(tmp_path: Path) -> None:
    title, header, rows = sample_table()
    relation, number = header.index("与户主关系"), header.index("证件号码")
    # The second row of the first household: a member, checked through the cache.
    assert rows[0][relation] == "户主" and rows[1][relation] != "户主"
    rows[1][relation] = "户主"
    path = write_national_csv(tmp_path / "人口信息.csv", (title, header, rows), "utf-8")

    results = _results(path, cached=True)

    assert results[1] == [4, "与户主关系为“户主”，但证件号码与户主证件号码不同，请核对"], rows[1][number]
