from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from import_support import TODAY, make_id

from bangfu.registry.imports.headers import HeaderError
from bangfu.registry.imports.pipeline import ImportFile
from bangfu.registry.imports.records import EmploymentRecord
from bangfu.registry.imports.rejects import RejectsWriter
from bangfu.registry.imports.rows import Rejection

PERSON = make_id("140105", "19900101", "123")


def test_xlsx_employment_import_end_to_end(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["序号", "基本信息", "务工情况", None, None, None])
    sheet.append([None, "身份证号*", "用工单位", "务工地", "开始日期", "交通费（元）"])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("C1:F1")
    sheet.append([1, PERSON, "昆山某电子厂", "江苏省", 44197, 350.5])
    sheet.append([2, PERSON, "太钢", "太原市小店区", "2021年3月1日", 12.345])
    sheet.append([3, PERSON, "昆山某电子厂", "江苏省", "2021-01-01", None])
    sheet.append([None] * 6)
    path = tmp_path / "employment.xlsx"
    workbook.save(path)

    with ImportFile(path, "employment", today=TODAY) as source:
        with RejectsWriter(tmp_path / "rejects.csv", source.table.header) as rejects:
            results = list(source.results())
            for result in results:
                if isinstance(result, Rejection):
                    rejects.write(result)
        assert source.counts.records == 1
        assert source.counts.rejected == 2
        assert source.table.blank_rows == 1
    record = results[0]
    assert isinstance(record, EmploymentRecord)
    assert (record.line, record.work_region, record.start_date.isoformat(), record.travel_cost_fen) == (
        3,
        "32",
        "2021-01-01",
        35050,
    )
    assert isinstance(results[1], Rejection)
    assert "超过两位小数" in results[1].reason_zh
    assert isinstance(results[2], Rejection)
    assert "都与第 3 行相同" in results[2].reason_zh
    with (tmp_path / "rejects.csv").open(encoding="utf-8-sig", newline="") as stream:
        written = list(csv.reader(stream))
    assert written[0] == [
        "行号",
        "拒绝原因",
        "序号",
        "基本信息/身份证号*",
        "务工情况/用工单位",
        "务工情况/务工地",
        "务工情况/开始日期",
        "务工情况/交通费（元）",
    ]
    assert written[1][0] == "4"


def test_header_problems_surface_before_any_row(tmp_path: Path) -> None:
    path = tmp_path / "training.csv"
    path.write_text(f"身份证号,机构,项目,开始日期,天数\n{PERSON},县职校,电工,2021-05-01,5\n", encoding="utf-8")
    with pytest.raises(HeaderError, match="缺少必需的列：培训机构、培训项目"):
        ImportFile(path, "training")
