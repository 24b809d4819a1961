from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from import_support import make_id
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from bangfu.registry.imports.headers import accepts
from bangfu.registry.imports.reading import RawRow, ReadError, Rejection, open_table
from bangfu.registry.imports.xlsx_source import cell_text

ID_A = make_id(sequence="123")
ID_B = make_id(sequence="124")


def two_row_header_workbook(path: Path) -> Path:
    """A county template: 序号 merged down, 基本信息 and 务工情况 merged across, blank rows at the end."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "务工台账"
    sheet.append(["序号", "基本信息", None, "务工情况", None, None, None])
    sheet.append([None, "姓名", "身份证号", "用工单位", "务工地", "开始日期", "结束日期"])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("D1:G1")
    sheet.append([1, "张三", ID_A, "晋能公司", "江苏省", 44197, datetime(2021, 6, 30)])
    sheet.append([2, "李四", ID_B, "太钢", "太原市小店区", "2021年3月1日", "20210401"])
    sheet.append([3, "王五", ID_B, "太钢", "小店区", "2021/1/1", None])
    for _ in range(3):
        sheet.append([None] * 7)
    sheet.cell(row=12, column=2, value="   ")  # a cell holding only spaces is still blank
    workbook.save(path)
    return path


def test_merged_two_row_header_joins_group_and_column_labels(tmp_path: Path) -> None:
    path = two_row_header_workbook(tmp_path / "employment.xlsx")
    with open_table(path) as table:
        assert table.format == "xlsx"
        assert table.sheet_name == "务工台账"
        assert table.header_depth == 2
        assert table.header_line == 2
        assert table.header == [
            "序号",
            "基本信息/姓名",
            "基本信息/身份证号",
            "务工情况/用工单位",
            "务工情况/务工地",
            "务工情况/开始日期",
            "务工情况/结束日期",
        ]
        rows = list(table.rows())
        assert table.blank_rows == 7  # rows 6-12: the appended empty rows, missing rows and row 12
    assert all(isinstance(row, RawRow) for row in rows)
    assert [row.line for row in rows] == [3, 4, 5]
    first = rows[0]
    assert isinstance(first, RawRow)
    # A plain number stays as Excel shows it; a date-formatted cell comes as an ISO date.
    assert first.original == ["1", "张三", ID_A, "晋能公司", "江苏省", "44197", "2021-06-30"]
    assert first.values["务工情况/开始日期"] == "44197"
    last = rows[2]
    assert isinstance(last, RawRow)
    assert last.values["务工情况/结束日期"] == ""


def test_title_row_above_a_grouped_header(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["XX县2021年脱贫劳动力花名册"])
    sheet.merge_cells("A1:D1")
    sheet.append(["基本信息", None, None, "联系方式"])
    sheet.merge_cells("A2:C2")
    sheet.append(["姓名", "身份证号", "户籍地", "手机号"])
    sheet.append(["张三", ID_A, "小店区", "13800138000"])
    path = tmp_path / "titled.xlsx"
    workbook.save(path)
    with open_table(path) as table:
        assert table.header_depth == 3
        assert table.header == [
            "XX县2021年脱贫劳动力花名册/基本信息/姓名",
            "XX县2021年脱贫劳动力花名册/基本信息/身份证号",
            "XX县2021年脱贫劳动力花名册/基本信息/户籍地",
            "XX县2021年脱贫劳动力花名册/联系方式/手机号",
        ]
        rows = list(table.rows())
    assert rows == [
        RawRow(
            4,
            dict(zip(table.header, ["张三", ID_A, "小店区", "13800138000"], strict=True)),
            ["张三", ID_A, "小店区", "13800138000"],
        )
    ]


def test_single_header_with_a_gap_does_not_swallow_the_first_data_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", None, "身份证号"])
    sheet.append(["张三", "备注文字", ID_A])
    path = tmp_path / "gap.xlsx"
    workbook.save(path)
    with open_table(path) as table:
        assert table.header == ["姓名", "第2列", "身份证号"]
        assert [row.line for row in table.rows()] == [2]


def test_header_check_stops_at_a_complete_header(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["身份证号", "培训机构", "培训项目", "开始日期", "天数", None])
    # Looks like labels and fills the gap, but the header above is already complete.
    sheet.append([ID_A, "县职校", "电工", "2021-05-01", 5, "证书"])
    sheet.append(["", "县职校", "厨师", "", "", "备注"])
    path = tmp_path / "training.xlsx"
    workbook.save(path)
    with open_table(path, header_accepts=accepts("training")) as table:
        assert table.header_depth == 1
        rows = list(table.rows())
    assert [row.line for row in rows] == [2, 3]
    # Without the check, a label-like row under a gap would be taken as a second header row.
    with open_table(path, header_rows=1) as table:
        assert table.header_depth == 1


def test_cell_values_become_the_text_excel_shows() -> None:
    assert cell_text(None) == ""
    assert cell_text(5.0) == "5"
    assert cell_text(1200.5) == "1200.5"
    assert cell_text(0.1 + 0.2) == "0.30000000000000004"  # never rounded behind anyone's back
    assert cell_text(13800138000) == "13800138000"
    assert cell_text(True) == "TRUE"
    assert cell_text(datetime(2021, 1, 1)) == "2021-01-01"
    assert cell_text(datetime(2021, 1, 1, 8, 30)) == "2021-01-01 08:30:00"
    assert cell_text(date(2021, 1, 1)) == "2021-01-01"
    # An 18-digit ID number typed as a number keeps 15 digits in Excel; show it as Excel holds it.
    assert cell_text(1.40105199001011e17) == "1.40105199001011e+17"


def test_other_sheets_with_data_are_warned_about_and_can_be_chosen(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.title = "一月"
    first.append(["姓名", "身份证号"])
    first.append(["张三", ID_A])
    second = workbook.create_sheet("二月")
    second.append(["姓名", "身份证号"])
    second.append(["李四", ID_B])
    workbook.create_sheet("空表")
    path = tmp_path / "months.xlsx"
    workbook.save(path)
    with open_table(path) as table:
        assert table.sheet_name == "一月"
        assert len(table.warnings) == 1
        assert "二月" in table.warnings[0] and "空表" not in table.warnings[0]
    with open_table(path, sheet="二月") as table:
        assert table.warnings == []
        rows = list(table.rows())
    assert rows == [RawRow(2, {"姓名": "李四", "身份证号": ID_B}, ["李四", ID_B])]
    with pytest.raises(ReadError, match="没有名为“三月”的工作表"):
        open_table(path, sheet="三月")


def test_1904_workbook_reports_its_date_system(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["开始日期"])
    sheet.append([42735])
    path = tmp_path / "mac.xlsx"
    workbook.save(path)
    with open_table(path) as table:
        assert table.date_system == 1904


def test_cells_right_of_the_header_reject_the_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号"])
    sheet.append(["张三", ID_A, "多出来的"])
    sheet.append(["李四", ID_B])
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    with open_table(path) as table:
        rows = list(table.rows())
    assert isinstance(rows[0], Rejection)
    assert rows[0].original == ["张三", ID_A, "多出来的"]
    assert "列数超出表头" in rows[0].reason_zh
    assert rows[1] == RawRow(3, {"姓名": "李四", "身份证号": ID_B}, ["李四", ID_B])
