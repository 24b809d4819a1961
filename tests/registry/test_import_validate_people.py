from __future__ import annotations

from datetime import date

import pytest
from import_support import TODAY, make_id

from bangfu.registry.imports.headers import map_columns
from bangfu.registry.imports.records import PersonRecord
from bangfu.registry.imports.rows import RawRow, Rejection
from bangfu.registry.imports.validate import make_validator, validate_rows

HEADER = ["姓名", "身份证号", "户籍所在县", "人员类别", "劳动能力", "联系电话", "性别", "出生日期", "户编号"]
MALE_ID = make_id("140105", "19900101", "123")
FEMALE_X_ID = make_id("140105", "19851231", "456")  # check character X
COLUMNS = map_columns("people", HEADER)


def row(line: int = 2, /, **cells: str) -> RawRow:
    defaults = {
        "姓名": "张三",
        "身份证号": MALE_ID,
        "户籍所在县": "小店区",
        "人员类别": "脱贫人口",
        "劳动能力": "全劳力",
        "联系电话": "13800138000",
        "性别": "",
        "出生日期": "",
        "户编号": "",
    }
    values = defaults | cells
    return RawRow(line, values, [values[label] for label in HEADER])


def validate_one(raw: RawRow) -> PersonRecord | Rejection:
    result = make_validator(COLUMNS, today=TODAY)(raw)
    assert isinstance(result, PersonRecord | Rejection)
    return result


def reason(raw: RawRow) -> str:
    result = validate_one(raw)
    assert isinstance(result, Rejection), result
    assert result.line == raw.line
    assert result.original == raw.original
    return result.reason_zh


def test_valid_row_becomes_a_typed_record() -> None:
    result = validate_one(row(**{"人员类别": "脱贫人口、易地搬迁", "户编号": "1401050010001"}))
    assert result == PersonRecord(
        line=2,
        name="张三",
        id_number=MALE_ID,
        hukou_region="140105",
        categories=("poverty_alleviated", "relocated"),
        labor_capacity="ordinary",
        phone="13800138000",
        sex="male",
        birth_date=date(1990, 1, 1),
        household_number="1401050010001",
    )


def test_full_width_digits_spaces_and_lower_case_x_are_normalised() -> None:
    assert FEMALE_X_ID.endswith("X")
    full_width = "".join(chr(ord(char) + 0xFEE0) if char.isdigit() else char for char in FEMALE_X_ID[:-1])
    written = f" {full_width[:6]} {full_width[6:14]}\u3000{full_width[14:]}x "
    result = validate_one(row(**{"身份证号": written, "姓名": "李  四", "劳动能力": "弱劳力", "联系电话": ""}))
    assert isinstance(result, PersonRecord)
    assert result.id_number == FEMALE_X_ID
    assert result.sex == "female"
    assert result.birth_date == date(1985, 12, 31)
    assert result.name == "李四"
    assert result.phone is None


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        (MALE_ID[:-1] + ("0" if MALE_ID[-1] != "0" else "1"), "身份证号有误：校验位错误"),
        (make_id("140105", "20250101", "123"), "身份证号有误：出生日期错误：2025-01-01 晚于今天 2024-06-30"),
        (make_id("140105", "19900230", "123"), "身份证号有误：出生日期错误：19900230 不是真实日期"),
        ("14010519900101", "身份证号有误：长度错误"),
        ("", "身份证号为空"),
        ("1.40105E+17", "已被 Excel 存成数字（科学计数法）"),
    ],
)
def test_bad_id_numbers_are_rejected_with_the_check_reason(id_number: str, message: str) -> None:
    assert message in reason(row(**{"身份证号": id_number}))


def test_legacy_15_digit_number_is_upgraded() -> None:
    result = validate_one(row(**{"身份证号": "140105900101123"}))
    assert isinstance(result, PersonRecord)
    assert result.id_number == make_id("140105", "19900101", "123")


@pytest.mark.parametrize(
    ("hukou", "message"),
    [
        ("110105", "户籍地“110105”不在山西省（属于北京市）"),
        ("北京市朝阳区", "不在山西省"),
        ("城区", "有多个同名的县（区）"),
        ("火星县", "不是山西省的县（区、市）名称"),
    ],
)
def test_hukou_must_be_one_shanxi_county(hukou: str, message: str) -> None:
    assert message in reason(row(**{"户籍所在县": hukou}))


def test_hukou_by_code_or_qualified_name() -> None:
    for written, code in (("140728", "140728"), ("阳泉市城区", "140302"), ("山西省太原市小店区", "140105")):
        result = validate_one(row(**{"户籍所在县": written}))
        assert isinstance(result, PersonRecord)
        assert result.hukou_region == code


def test_categories_accept_labels_codes_and_separators() -> None:
    written = "脱贫人口，边缘易致贫人口;防返贫监测对象； 农村低收入人口 relocated、脱贫人口"
    result = validate_one(row(**{"人员类别": written}))
    assert isinstance(result, PersonRecord)
    assert result.categories == ("poverty_alleviated", "edge_of_poverty", "monitored", "rural_low_income", "relocated")
    for label, code in (
        ("脱贫不稳定户", "unstable_alleviated"),
        ("突发严重困难户", "sudden_hardship"),
        ("易地搬迁", "relocated"),
    ):
        result = validate_one(row(**{"人员类别": label}))
        assert isinstance(result, PersonRecord)
        assert result.categories == (code,)


def test_unknown_category_and_capacity_are_rejected() -> None:
    message = reason(row(**{"人员类别": "脱贫人口、贫困户", "劳动能力": "无劳动能力"}))
    assert "人员类别“贫困户”无法识别" in message
    assert (
        "劳动能力“无劳动能力”无法识别，可填：技能劳动力、普通劳动力、弱劳动力或半劳动力、丧失劳动力、无劳动力"
        "（旧写法全劳力、弱劳力、半劳力也可）"
    ) in message
    assert "人员类别为空" in reason(row(**{"人员类别": " "}))


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("全劳力", "ordinary"),
        ("半劳力", "weak"),
        ("弱劳力", "weak"),
        ("weak", "weak"),
        ("Full", "ordinary"),
        ("half", "weak"),
        ("技能劳动力", "skilled"),
        ("普通劳动力", "ordinary"),
        ("弱劳动力或半劳动力", "weak"),
        ("丧失劳动力", "lost"),
        ("无劳动力", "none"),
    ],
)
def test_labor_capacity_labels(written: str, code: str) -> None:
    result = validate_one(row(**{"劳动能力": written}))
    assert isinstance(result, PersonRecord)
    assert result.labor_capacity == code


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("0351-1234567", "0351-1234567"),
        ("010-12345678", "010-12345678"),
        ("03511234567", "03511234567"),
        ("0351-1234567-801", "0351-1234567-801"),
    ],
)
def test_phone_numbers(written: str, stored: str) -> None:
    result = validate_one(row(**{"联系电话": written}))
    assert isinstance(result, PersonRecord)
    assert result.phone == stored


@pytest.mark.parametrize("written", ["1380013800", "12800138000", "1234567", "138001380001", "电话"])
def test_bad_phone_numbers(written: str) -> None:
    assert f"联系电话“{written}”格式不正确" in reason(row(**{"联系电话": written}))


def test_birth_date_and_sex_columns_must_agree_with_the_id() -> None:
    agreeing = validate_one(row(**{"性别": "男", "出生日期": "1990/1/1"}))
    assert isinstance(agreeing, PersonRecord)
    serial = validate_one(row(**{"出生日期": "32874"}))  # Excel serial for 1990-01-01
    assert isinstance(serial, PersonRecord)
    message = reason(row(**{"出生日期": "1990-01-02"}))
    assert message == "出生日期与身份证号不一致（出生日期列为 1990-01-02，身份证号中为 1990-01-01）"
    assert reason(row(**{"性别": "女"})) == "性别与身份证号不一致（性别列为女，身份证号第 17 位表示男）"
    assert "出生日期：日期格式不正确" in reason(row(**{"出生日期": "九零年"}))
    assert "性别“未知”无法识别" in reason(row(**{"性别": "未知"}))


def test_all_problems_of_a_row_are_reported_together() -> None:
    message = reason(row(**{"姓名": "", "户籍所在县": "110105", "劳动能力": "强", "联系电话": "123"}))
    parts = message.split("；")
    assert len(parts) == 4
    assert parts[0] == "姓名为空"


def test_duplicate_ids_in_one_file_reject_later_occurrences() -> None:
    rows = [
        row(2),
        row(3, **{"身份证号": FEMALE_X_ID}),
        row(4, **{"身份证号": MALE_ID.lower().replace("", " ").strip()}),
        row(5, **{"身份证号": FEMALE_X_ID.lower()}),
        row(6, **{"身份证号": MALE_ID}),
    ]
    results = list(validate_rows(rows, COLUMNS, today=TODAY))
    assert [type(result) for result in results] == [PersonRecord, PersonRecord, Rejection, Rejection, Rejection]
    assert [result.reason_zh for result in results if isinstance(result, Rejection)] == [
        "文件内身份证号重复（首次出现在第 2 行）",
        "文件内身份证号重复（首次出现在第 3 行）",
        "文件内身份证号重复（首次出现在第 2 行）",
    ]


def test_a_rejected_first_occurrence_still_counts_for_duplicates() -> None:
    results = list(validate_rows([row(2, **{"联系电话": "1"}), row(3)], COLUMNS, today=TODAY))
    assert isinstance(results[1], Rejection)
    assert results[1].reason_zh == "文件内身份证号重复（首次出现在第 2 行）"


def test_reading_rejections_pass_through_unchanged() -> None:
    refused = Rejection(7, ["x"], "编码错误：……")
    assert list(validate_rows([refused], COLUMNS, today=TODAY)) == [refused]


def test_optional_columns_may_be_absent() -> None:
    columns = map_columns("people", HEADER[:6])
    raw = RawRow(2, dict(zip(HEADER[:6], row().original[:6], strict=True)), row().original[:6])
    result = make_validator(columns, today=TODAY)(raw)
    assert isinstance(result, PersonRecord)
    assert result.household_number is None
