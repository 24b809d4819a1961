"""``bangfu check FILE``: outputs, masking, bad input (exit 2) and rule files, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from check_files import NationalFile, clean_file, write_csv, write_xlsx
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]
from typer.testing import CliRunner, Result

from bangfu.checks.report import SUMMARY_NAME
from bangfu.cli import app
from bangfu.core.disclosure import masked_id_number


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["check", *map(str, args), "--date", "2024-06-30"])


def said(result: Result) -> str:
    """stderr without the line breaks the console puts into long messages."""
    return "".join(result.stderr.split())


def ok_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {said(result)}"
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def counts(data: dict[str, Any]) -> dict[str, int | None]:
    return {rule["id"]: rule["count"] for rule in data["rules"]}


def cells(path: Path) -> list[tuple[Any, ...]]:
    workbook = load_workbook(path, read_only=True)
    try:
        return [row for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def planted() -> tuple[NationalFile, int]:
    """A clean file with one same-sex spouse (HU04), whose name is a formula."""
    made = clean_file()
    spouse = made.member(1, "配偶")
    made.rows[spouse].update(sex="男", name='=HYPERLINK("http://x","点我")')
    return made, spouse


def test_check_writes_a_summary_and_a_masked_file_per_rule_with_suspects(tmp_path: Path) -> None:
    made, spouse = planted()
    out = tmp_path / "out"
    data = ok_json(invoke(write_csv(made, tmp_path / "人口.csv"), "--out", out, "--json"))
    found = {rule_id: n for rule_id, n in counts(data).items() if n}
    assert found == {"HU04": 1, "ZJ06": 1}  # the spouse is now a man with a woman's ID number
    summary = cells(out / SUMMARY_NAME)
    assert summary[0] == ("规则编号", "说明", "严重程度", "疑点行数", "结果文件", "备注")
    assert summary[[r[0] for r in summary].index("HU04")][:4] == ("HU04", "配偶与户主性别相同", "中", 1)
    rows = cells(Path(next(r["file"] for r in data["rules"] if r["id"] == "HU04")))
    # who the row is, and what the rule read (性别 through the head's sex): not the other forty columns
    assert rows[0] == ("疑点说明", "行号", "县", "乡", "村", "户编号", "姓名", "性别", "证件号码", "与户主关系")
    reason, line, *values = rows[1]
    assert (reason, line) == ("配偶与户主性别相同", made.line(spouse))
    assert '\'=HYPERLINK("http://x","点我")' in values  # kept as text, not run as a formula
    # no ID number or phone appears in full in any output
    secrets = {row[f] for row in made.rows for f in ("id_number", "head_id_number", "member_phone", "household_phone")}
    written = {str(v) for path in out.iterdir() for row in cells(path) for v in row if v is not None}
    assert not secrets & written
    number = made.rows[spouse]["id_number"]
    assert masked_id_number(number) == number[:4] + "*" * 12 + number[-2:] and masked_id_number(number) in written


def test_missing_required_columns_are_named_and_the_layout_listed(tmp_path: Path) -> None:
    path = write_csv(clean_file(), tmp_path / "少列.csv", drop=("relation_to_head", "labor_skill"))
    result = invoke(path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "缺少必需的列：与户主关系、劳动技能" in said(result)
    assert "应有的列" in said(result) and "户类型（必需）" in said(result)
    assert not (tmp_path / "out").exists()


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "其他.csv"
    path.write_text("单位名称,统一社会信用代码\n某公司,91140000\n", encoding="utf-8")
    result = invoke(path)
    assert result.exit_code == 2
    assert "不像全国防返贫监测信息系统人口信息表" in said(result)


def test_id_numbers_saved_as_numbers_in_xlsx_are_refused_with_how_to_fix(tmp_path: Path) -> None:
    path = write_xlsx(clean_file(), tmp_path / "数字.xlsx", numeric_ids=True)
    result = invoke(path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "以数字格式保存" in said(result) and "e+17" in said(result)
    assert "“文本”格式" in said(result) and "重新从系统下载" in said(result)
    assert not (tmp_path / "out").exists()


def test_id_numbers_shown_in_scientific_notation_in_csv_are_refused(tmp_path: Path) -> None:
    made = clean_file()
    made.rows[3]["id_number"] = "1.40925E+17"
    result = invoke(write_csv(made, tmp_path / "科学计数.csv"))
    assert result.exit_code == 2
    assert f"第{made.line(3)}行的1.40925E+17" in said(result)


def test_a_rule_whose_column_is_absent_is_reported_not_checked(tmp_path: Path) -> None:
    path = write_csv(clean_file(), tmp_path / "无消除时间.csv", drop=("risk_removed_on",))
    data = ok_json(invoke(path, "--out", tmp_path / "out", "--json"))
    rule = next(r for r in data["rules"] if r["id"] == "JC05")
    assert rule["count"] is None and rule["not_checked"] == "未核查：文件缺少列 风险消除时间"
    assert counts(data)["HU04"] == 0


def _lines(data: dict[str, Any], rule_id: str) -> list[int]:
    path = next(r["file"] for r in data["rules"] if r["id"] == rule_id)
    return [row[1] for row in cells(Path(path))[1:]]


def test_utf8_gbk_and_xlsx_give_the_same_rows_and_lines(tmp_path: Path) -> None:
    made, spouse = planted()
    made.rows[spouse]["name"] = "王秀英"
    made.rows[made.member(2, "之子")]["schooling"] = None  # JY03 (and JY02)
    results = [
        ok_json(invoke(write_csv(made, tmp_path / "u.csv"), "--out", tmp_path / "u", "--json")),
        ok_json(invoke(write_csv(made, tmp_path / "g.csv", encoding="gbk"), "--out", tmp_path / "g", "--json")),
        ok_json(invoke(write_xlsx(made, tmp_path / "x.xlsx"), "--out", tmp_path / "x", "--json")),
    ]
    assert counts(results[0]) == counts(results[1]) == counts(results[2])
    assert counts(results[0])["JY03"] == 1
    for rule_id in ("HU04", "JY03"):
        assert _lines(results[0], rule_id) == _lines(results[1], rule_id) == _lines(results[2], rule_id)


def test_a_cell_with_a_line_break_keeps_every_line_number_exact(tmp_path: Path) -> None:
    made, spouse = planted()
    made.rows[0]["employer_name"] = "杭州某物流\n有限公司"  # row 0 spans two lines of the file
    data = ok_json(invoke(write_csv(made, tmp_path / "换行.csv"), "--out", tmp_path / "out", "--json"))
    with (tmp_path / "换行.csv").open(encoding="utf-8", newline="") as stream:
        lines = [line for line in stream.read().split("\n") if "=HYPERLINK" in line]
        assert len(lines) == 1
    text = (tmp_path / "换行.csv").read_text(encoding="utf-8")
    expected = text[: text.index("=HYPERLINK")].count("\n") + 1
    assert _lines(data, "HU04") == [expected] == [made.line(spouse) + 1]


def test_a_rule_file_replaces_disables_and_adds_rules(tmp_path: Path) -> None:
    made, _ = planted()
    made.rows[0]["name"] = "张三"
    extra = tmp_path / "市级规则.yaml"
    extra.write_text(
        "rules:\n"
        "  - id: HU04\n    description: 停用\n    severity: 中\n"
        "    condition: relation_to_head == '配偶'\n    enabled: false\n"
        "  - id: SJ01\n    description: 姓名为张三（市级自定）\n    severity: 低\n    condition: name == '张三'\n",
        encoding="utf-8",
    )
    data = ok_json(invoke(write_csv(made, tmp_path / "a.csv"), "--rules", extra, "--disable", "ZJ06", "--json"))
    found = counts(data)
    assert "HU04" not in found and "ZJ06" not in found
    assert found["SJ01"] == 1


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("  - id: SJ02\n    description: x\n    severity: 中\n    condition: nme == '张三'\n", "未知的事实 nme"),
        (
            "  - id: SJ02\n    description: x\n    severity: 严重\n    condition: name == '张三'\n",
            "severity 应为 高、中 或 低",
        ),
        ("  - id: SJ02\n    description: x\n    severity: 中\n    when: name == '张三'\n", "未知的键 when"),
        ("  - id: SJ02\n    description: x\n    severity: 中\n    condition: length(name)\n", "condition 应为真假判断"),
        (
            "  - id: SJ02\n    description: x\n    severity: 中\n    over: ledger\n    condition: in_download\n",
            "over 应为",
        ),
        (
            "  - id: SJ02\n    description: x\n    severity: 中\n    over: registry\n    condition: same_id_rows > 1\n",
            "不能读分组汇总值",
        ),
    ],
)
def test_a_bad_rule_file_is_refused_naming_the_file_and_the_rule(rule: str, message: str, tmp_path: Path) -> None:
    extra = tmp_path / "坏规则.yaml"
    extra.write_text("rules:\n" + rule, encoding="utf-8")
    result = invoke(write_csv(clean_file(), tmp_path / "a.csv"), "--rules", extra, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert (
        "".join(str(extra).split()) in said(result)
        and "SJ02" in said(result)
        and message.replace(" ", "") in said(result)
    )
    assert not (tmp_path / "out").exists()


def test_a_rule_over_the_registry_is_not_checked_without_one(tmp_path: Path) -> None:
    extra = tmp_path / "比对.yaml"
    extra.write_text(
        "rules:\n  - id: SJ03\n    description: x\n    severity: 中\n    over: registry\n"
        "    condition: not in_download\n",
        encoding="utf-8",
    )
    data = ok_json(invoke(write_csv(clean_file(), tmp_path / "a.csv"), "--rules", extra, "--json"))
    [rule] = [rule for rule in data["rules"] if rule["id"] == "SJ03"]
    assert rule["count"] is None and rule["not_checked"] == "未核查：需与登记库比对（bangfu check 文件 --database）"


def test_disabling_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    result = invoke(write_csv(clean_file(), tmp_path / "a.csv"), "--disable", "ZZ99")
    assert result.exit_code == 2 and "--disableZZ99：没有这条规则" in said(result)


def test_blank_lines_and_rows_of_empty_cells_are_skipped_and_lines_stay_exact(tmp_path: Path) -> None:
    made, spouse = planted()
    path = write_csv(made, tmp_path / "空行.csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(4, "")  # an empty line, then a row of empty cells, before the spouse's row
    lines.insert(5, "," * 49)
    path.write_text("\n".join(lines), encoding="utf-8")
    data = ok_json(invoke(path, "--out", tmp_path / "out", "--json"))
    assert data["rows"] == len(made.rows)
    assert counts(data)["ZJ01"] == 0
    assert _lines(data, "HU04") == [made.line(spouse) + 2]


def test_a_row_with_more_cells_than_the_header_is_refused_with_its_line_and_the_rest_checked(tmp_path: Path) -> None:
    made, spouse = planted()
    path = write_csv(made, tmp_path / "多列.csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] += ",多出的单元格"  # the second data row: a stray comma shifts it
    path.write_text("\n".join(lines), encoding="utf-8")
    data = ok_json(invoke(path, "--out", tmp_path / "out", "--json"))
    assert data["rows"] == len(made.rows) - 1 and data["unreadable_rows"] == 1
    assert _lines(data, "HU04") == [made.line(spouse)]
    unread = cells(tmp_path / "out" / SUMMARY_NAME)
    assert any(row[0] == 4 and "列数超出表头" in str(row[1]) for row in unread)


def test_a_second_run_into_the_same_folder_leaves_no_file_of_the_first(tmp_path: Path) -> None:
    made, spouse = planted()
    out = tmp_path / "out"
    first = ok_json(invoke(write_csv(made, tmp_path / "a.csv"), "--out", out, "--json"))
    assert counts(first)["HU04"] == 1
    made.rows[spouse]["sex"] = "女"  # corrected
    second = ok_json(invoke(write_csv(made, tmp_path / "a.csv"), "--out", out, "--json"))
    assert {n for n in counts(second).values() if n} == set()
    assert sorted(p.name for p in out.iterdir()) == [SUMMARY_NAME]
