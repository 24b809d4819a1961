from __future__ import annotations

from datetime import date

import pytest
from import_support import TODAY, make_id

from bangfu.registry.imports.headers import map_columns
from bangfu.registry.imports.records import EmploymentRecord, HouseholdRecord, OrganizationRecord, TrainingRecord
from bangfu.registry.imports.rows import RawRow, Rejection
from bangfu.registry.imports.validate import make_validator, validate_rows
from bangfu.registry.imports.values import credit_code_check_char, parse_fen

PERSON = make_id("140105", "19900101", "123")
CREDIT17 = "91140105MA0GRL5BN"
CREDIT = CREDIT17 + credit_code_check_char(CREDIT17)


def raw(header: list[str], cells: list[str], line: int = 2) -> RawRow:
    return RawRow(line, dict(zip(header, cells, strict=True)), cells)


# Employment ---------------------------------------------------------------------------------

EMPLOYMENT = [
    "身份证号",
    "用工单位",
    "务工地",
    "开始日期",
    "结束日期",
    "是否有组织输出",
    "交通费（元）",
    "月收入（元）",
]


def employment(cells: dict[str, str], line: int = 2) -> RawRow:
    defaults = dict.fromkeys(EMPLOYMENT, "") | {
        "身份证号": PERSON,
        "用工单位": "昆山某电子厂",
        "务工地": "江苏省苏州市",
        "开始日期": "2021-03-01",
    }
    values = defaults | cells
    return raw(EMPLOYMENT, [values[label] for label in EMPLOYMENT], line)


def check_employment(row: RawRow) -> EmploymentRecord | Rejection:
    result = make_validator(map_columns("employment", EMPLOYMENT), today=TODAY)(row)
    assert isinstance(result, EmploymentRecord | Rejection)
    return result


def test_employment_record_with_money_in_fen() -> None:
    result = check_employment(
        employment({"结束日期": "44561", "是否有组织输出": "是", "交通费（元）": "1,200.5", "月收入（元）": "4500元"})
    )
    assert result == EmploymentRecord(
        line=2,
        id_number=PERSON,
        employer="昆山某电子厂",
        work_region="32",
        start_date=date(2021, 3, 1),
        end_date=date(2021, 12, 31),
        organized_export=True,
        travel_cost_fen=120050,
        job=None,
        monthly_income_fen=450000,
    )


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"交通费（元）": "12.345"}, "交通费（元）“12.345”超过两位小数（精确到分），不做四舍五入"),
        ({"交通费（元）": "-5"}, "交通费（元）“-5”不是金额"),
        ({"交通费（元）": "约100"}, "不是金额"),
        ({"开始日期": "2021-02-30"}, "开始日期：日期不存在"),
        ({"开始日期": ""}, "开始日期：日期格式不正确"),
        ({"结束日期": "2021-01-01"}, "结束日期 2021-01-01 早于开始日期 2021-03-01"),
        ({"是否有组织输出": "也许"}, "是否有组织输出“也许”无法识别"),
        ({"务工地": "省外"}, "务工地“省外”无法识别"),
        ({"用工单位": " "}, "用工单位为空"),
    ],
)
def test_employment_rejections(cells: dict[str, str], message: str) -> None:
    result = check_employment(employment(cells))
    assert isinstance(result, Rejection)
    assert message in result.reason_zh


def test_repeated_employment_spell_is_rejected_but_a_new_spell_is_not() -> None:
    rows = [
        employment({}, 2),
        employment({"开始日期": "2022-03-01"}, 3),
        employment({"开始日期": "2021/3/1"}, 4),
    ]
    results = list(validate_rows(rows, map_columns("employment", EMPLOYMENT), today=TODAY))
    assert [type(result) for result in results] == [EmploymentRecord, EmploymentRecord, Rejection]
    assert isinstance(results[2], Rejection)
    assert results[2].reason_zh == "文件内重复记录：身份证号、开始日期、用工单位都与第 2 行相同"


@pytest.mark.parametrize(
    ("text", "fen"),
    [("800", 80000), ("800.5", 80050), ("800.50", 80050), ("800.500", 80050), ("０.０１", 1), ("¥12", 1200)],
)
def test_exact_yuan_to_fen(text: str, fen: int) -> None:
    assert parse_fen(text, "金额") == fen


# Training -----------------------------------------------------------------------------------

TRAINING = ["身份证号", "培训机构", "培训项目", "开始日期", "天数", "证书"]


def test_training_record_and_repeat() -> None:
    columns = map_columns("training", TRAINING)
    rows = [
        raw(TRAINING, [PERSON.lower(), "县职业学校", "电工", "2021年5月1日", "5.0", "电工证"], 2),
        raw(TRAINING, [PERSON, "县职业学校", "电工", "44317", "5", ""], 3),
        raw(TRAINING, [PERSON, "县职业学校", "厨师", "2021-05-01", "0", ""], 4),
    ]
    results = list(validate_rows(rows, columns, today=TODAY))
    assert results[0] == TrainingRecord(2, PERSON, "县职业学校", "电工", date(2021, 5, 1), 5, "电工证")
    assert isinstance(results[1], Rejection)
    assert "都与第 2 行相同" in results[1].reason_zh
    assert isinstance(results[2], Rejection)
    assert results[2].reason_zh == "天数“0”应为正整数"


# Households ---------------------------------------------------------------------------------

HOUSEHOLDS = ["户编号", "户主姓名", "户主身份证号", "户籍所在县", "家庭人口数", "户类别"]


def test_household_records_and_repeats() -> None:
    columns = map_columns("households", HOUSEHOLDS)
    other = make_id("140728", "19700505", "321")
    rows = [
        raw(HOUSEHOLDS, ["1401050010001", "张三", PERSON, "小店区", "4", "脱贫户"], 2),
        raw(HOUSEHOLDS, ["1401050010001", "李四", other, "平遥县", "", ""], 3),
        raw(HOUSEHOLDS, ["1407280010002", "张三", PERSON, "平遥县", "3人", "监测对象"], 4),
        raw(HOUSEHOLDS, ["1.40105001E+12", "王五", other, "平遥县", "", ""], 5),
    ]
    results = list(validate_rows(rows, columns, today=TODAY))
    assert results[0] == HouseholdRecord(2, "1401050010001", "张三", PERSON, "140105", 4, ("poverty_alleviated",), None)
    assert isinstance(results[1], Rejection)
    assert results[1].reason_zh == "文件内户编号重复（首次出现在第 2 行）"
    assert isinstance(results[2], Rejection)
    assert results[2].reason_zh == "文件内户主身份证号重复（首次出现在第 2 行）"
    assert isinstance(results[3], Rejection)
    assert "户编号“1.40105001E+12”已被 Excel 存成数字" in results[3].reason_zh


# Organizations ------------------------------------------------------------------------------

ORGANIZATIONS = ["单位名称", "统一社会信用代码", "单位类型", "所在县", "是否认定为就业帮扶基地", "开始运营日期"]


def test_organization_records() -> None:
    columns = map_columns("organizations", ORGANIZATIONS)
    rows = [
        raw(ORGANIZATIONS, ["晋善晋美帮扶车间", CREDIT.lower(), "社区工厂", "小店区", "否", "2020-06-01"], 2),
        raw(ORGANIZATIONS, ["王师傅", "", "劳务经纪人", "平遥县", "", ""], 3),
        raw(ORGANIZATIONS, ["某公司", "", "企业", "平遥县", "", ""], 4),
        raw(ORGANIZATIONS, ["另一公司", CREDIT17 + "0", "企业", "平遥县", "", ""], 5),
        raw(ORGANIZATIONS, ["同一公司", CREDIT, "enterprise", "140728", "是", ""], 6),
        raw(ORGANIZATIONS, ["某园区", "", "产业园", "平遥县", "", ""], 7),
    ]
    results = list(validate_rows(rows, columns, today=TODAY))
    assert results[0] == OrganizationRecord(
        2, "晋善晋美帮扶车间", CREDIT, "workshop", "140105", None, None, False, date(2020, 6, 1)
    )
    assert results[1] == OrganizationRecord(3, "王师傅", None, "labor_broker", "140728", None, None, None, None)
    assert isinstance(results[2], Rejection)
    assert results[2].reason_zh == "统一社会信用代码为空（只有劳务经纪人可以不填）"
    assert isinstance(results[3], Rejection)
    assert "校验位错误" in results[3].reason_zh
    assert isinstance(results[4], Rejection)
    assert results[4].reason_zh == "文件内统一社会信用代码重复（首次出现在第 2 行）"
    assert isinstance(results[5], Rejection)
    assert "单位类型“产业园”无法识别" in results[5].reason_zh


def test_an_organization_at_a_township_of_its_county() -> None:
    header = [*ORGANIZATIONS, "所在乡镇（街道）"]
    columns = map_columns("organizations", header)
    rows = [
        raw(header, ["蔚汾车间", CREDIT, "就业帮扶车间", "兴县", "", "", "蔚汾镇"], 2),
        raw(header, ["县里的车间", "", "劳务经纪人", "兴县", "", "", ""], 3),
        raw(header, ["错乡的车间", "", "劳务经纪人", "兴县", "", "", "龙泉镇"], 4),
    ]
    results = list(validate_rows(rows, columns, today=TODAY))
    assert isinstance(results[0], OrganizationRecord) and results[0].region == "141123100"
    assert isinstance(results[1], OrganizationRecord) and results[1].region == "141123"  # no township: the county
    assert isinstance(results[2], Rejection)
    assert "所在乡镇“龙泉镇”不是兴县的乡镇（街道）" in results[2].reason_zh


def test_validator_refuses_a_column_map_of_another_kind() -> None:
    from bangfu.registry.imports.validate import PeopleValidator

    with pytest.raises(ValueError, match="列映射"):
        PeopleValidator(map_columns("training", TRAINING))


def test_a_rejected_spell_still_counts_for_repeats() -> None:
    rows = [employment({"交通费（元）": "1.001"}, 2), employment({}, 3)]
    results = list(validate_rows(rows, map_columns("employment", EMPLOYMENT), today=TODAY))
    assert [type(result) for result in results] == [Rejection, Rejection]
    assert isinstance(results[1], Rejection)
    assert results[1].reason_zh == "文件内重复记录：身份证号、开始日期、用工单位都与第 2 行相同"
