from __future__ import annotations

from pathlib import Path

import pytest

from bangfu.registry.imports.headers import (
    KINDS,
    NATIONAL_PEOPLE,
    HeaderError,
    accepts,
    map_columns,
    normalize_header,
    recognise,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-headers.md"
PEOPLE_HEADER = ["姓名", "身份证号", "户籍所在县", "人员类别", "劳动能力", "联系电话"]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("姓名", "姓名"),
        (" 姓 名 ", "姓名"),
        ("\u3000身份证号\u3000", "身份证号"),
        ("身份证\n号码", "身份证号码"),
        ("姓名*", "姓名"),
        ("*姓名＊", "姓名"),
        ("户籍县（区）", "户籍县(区)"),
        ("户籍县(区)", "户籍县(区)"),
        ("交通费【元】", "交通费(元)"),
        ("ＩＤ", "id"),
    ],
)
def test_normalize_header(raw: str, normalized: str) -> None:
    assert normalize_header(raw) == normalized


def test_people_columns_map_from_aliases_and_odd_spellings() -> None:
    header = ["序号", " 名字 ", "公民身份号码*", "户籍县(区)", "类别", "劳动能力", "手机号", "性别", "户编号", "备注"]
    columns = map_columns("people", header)
    assert columns.labels == {
        "name": " 名字 ",
        "id_number": "公民身份号码*",
        "hukou_region": "户籍县(区)",
        "categories": "类别",
        "labor_capacity": "劳动能力",
        "phone": "手机号",
        "sex": "性别",
        "household_number": "户编号",
    }
    assert columns.unused == ("序号", "备注")
    assert columns.has("sex") and not columns.has("birth_date")


def test_grouped_labels_match_on_their_last_part() -> None:
    header = ["基本信息/姓名", "基本信息/身份证号码", "户籍信息/户籍所在县（区）", "人员类别", "劳动能力", "联系电话"]
    columns = map_columns("people", header)
    assert columns.labels["id_number"] == "基本信息/身份证号码"
    assert columns.labels["hukou_region"] == "户籍信息/户籍所在县（区）"


def test_employment_travel_cost_header_with_full_width_brackets() -> None:
    columns = map_columns("employment", ["身份证号", "用工单位", "务工地", "开始日期", "交通费（元）"])
    assert columns.labels["travel_cost_fen"] == "交通费（元）"


def test_missing_columns_error_lists_missing_expected_and_found() -> None:
    found = ["名字", "证件号", "户籍地", "劳动能力"]
    with pytest.raises(HeaderError) as caught:
        map_columns("people", found)
    error = caught.value
    assert error.missing == ("身份证号", "人员类别", "联系电话")
    message = str(error)
    assert "缺少必需的列：身份证号、人员类别、联系电话" in message
    # The expected headers with their accepted aliases...
    assert "身份证号（也可写作：身份证号码、公民身份号码、身份证、证件号码） —— 必需" in message
    assert "性别 —— 可选" in message
    # ...and what the file actually has.
    assert "文件中找到的列：名字、证件号、户籍地、劳动能力" in message


def test_a_field_named_twice_is_refused() -> None:
    header = [*PEOPLE_HEADER, "身份证号码"]
    with pytest.raises(HeaderError, match="列重复：“身份证号”、“身份证号码” 都表示“身份证号”") as caught:
        map_columns("people", header)
    assert caught.value.duplicated == ("身份证号",)
    # A repeated identical label comes from the reader as "身份证号#2" and is caught the same way.
    with pytest.raises(HeaderError, match="列重复"):
        map_columns("people", [*PEOPLE_HEADER, "身份证号#2"])


def test_accepts_tells_whether_required_columns_are_present() -> None:
    check = accepts("people")
    assert check(PEOPLE_HEADER)
    assert not check(PEOPLE_HEADER[:-1])
    assert accepts("training")(["身份证号", "培训机构", "培训项目", "开始日期", "培训天数"])


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="未知的导入类型"):
        map_columns("pets", ["姓名"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_alias_points_to_two_fields(kind: str) -> None:
    seen: dict[str, str] = {}
    for field in KINDS[kind].fields:
        for header in field.headers:
            key = normalize_header(header)
            assert seen.setdefault(key, field.name) == field.name, f"{header} is ambiguous in {kind}"


@pytest.mark.parametrize("kind", list(KINDS))
def test_documentation_lists_every_header_and_alias(kind: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"<!-- kind: {kind} -->", 1)[1].split("<!-- kind:", 1)[0]
    for field in KINDS[kind].fields:
        assert f"`{field.name}`" in section, field.name
        for header in field.headers:
            assert header in section, f"{kind}: {header}"


def test_documentation_lists_every_header_of_the_national_layout() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("<!-- layout: people/national -->", 1)[1].split("<!-- kind:", 1)[0]
    for field in NATIONAL_PEOPLE.fields:
        assert f"`{field.name}`" in section, field.name
        for header in field.headers:
            assert header in section, header


NATIONAL_HEADER = [
    "省", "市", "县", "乡", "村", "户编号", "人口编号", "姓名", "性别", "证件号码", "民族", "户联系电话",
    "成员联系电话",
    "年度", "与户主关系", "劳动技能", "务工时间（月）", "户主姓名", "户主证件号码", "户类型", "监测对象类别",
]  # fmt: skip


def test_the_national_layout_is_recognised_by_its_header() -> None:
    assert recognise("people", NATIONAL_HEADER) is NATIONAL_PEOPLE
    assert recognise("people", PEOPLE_HEADER) is KINDS["people"]
    # A roster of Bangfu's own that names the ID column 证件号码 is still Bangfu's roster.
    assert (
        recognise("people", ["姓名", "证件号码", "户籍所在县", "人员类别", "劳动能力", "联系电话"]) is KINDS["people"]
    )
    columns = map_columns("people", NATIONAL_HEADER)
    assert columns.layout == "national"
    assert (columns.labels["labor_skill"], columns.labels["work_months"]) == ("劳动技能", "务工时间（月）")
    assert columns.unused == ("民族",)  # kept in the original record by the validator
    assert accepts("people")(NATIONAL_HEADER)


def test_a_national_header_with_a_title_above_matches_on_the_last_part() -> None:
    titled = [f"全国防返贫监测信息系统 人口信息/{label}" for label in NATIONAL_HEADER]
    assert map_columns("people", titled).layout == "national"


def test_a_national_export_missing_columns_names_them_and_lists_the_layout() -> None:
    header = [label for label in NATIONAL_HEADER if label not in ("县", "户主证件号码")]
    with pytest.raises(HeaderError) as caught:
        map_columns("people", header)
    message = str(caught.value)
    assert message.startswith("全国防返贫监测信息系统人口信息导入文件的表头有误：缺少必需的列：县、户主证件号码。")
    assert "劳动技能 —— 必需" in message and "风险是否已消除 —— 可选" in message
    assert caught.value.missing == ("县", "户主证件号码")


def test_no_alias_of_the_national_layout_points_to_two_fields() -> None:
    seen: dict[str, str] = {}
    for field in NATIONAL_PEOPLE.fields:
        for header in field.headers:
            assert seen.setdefault(normalize_header(header), field.name) == field.name, header
