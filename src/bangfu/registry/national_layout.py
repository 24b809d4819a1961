"""The person table (人口信息) of the national monitoring system (全国防返贫监测信息系统), as counties download it.

One row per person; the household's fields (户编号, 户主姓名, 户类型 …) repeat on every member's row.
Downloads differ in column order and carry extra columns, so a file is recognised by its header
labels, never by position. This module is a plain table (no I/O): the suspect-data checks and the
registry importer both read it, so a column is named, typed and given its vocabulary once.

Vocabularies are the values seen in national downloads and in publicly shared county checking
scripts; they are used to flag values outside them, never to rewrite a value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class ColumnKind(StrEnum):
    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"
    YES_NO = "yes_no"  # 是 / 否
    ID_NUMBER = "id_number"  # 公民身份号码, GB 11643
    PHONE = "phone"


@dataclass(frozen=True)
class Column:
    label: str  # the header as the national system writes it
    field: str  # English id used in code and in rule expressions
    kind: ColumnKind
    required: bool = False  # a file without it is not taken as this layout
    choices: tuple[str, ...] = ()  # closed vocabulary; empty when the column is free text
    household: bool = False  # the same value on every member's row of a household
    aliases: tuple[str, ...] = ()  # other headers seen for the same column


YES_NO = ("是", "否")
SEXES = ("男", "女")
RELATIONS = (
    "户主",
    "配偶",
    "之子",
    "之女",
    "之儿媳",
    "之女婿",
    "之孙子",
    "之孙女",
    "之外孙子",
    "之外孙女",
    "之父",
    "之母",
    "之岳父",
    "之岳母",
    "之公公",
    "之婆婆",
    "之祖父",
    "之祖母",
    "之外祖父",
    "之外祖母",
    "之兄弟姐妹",
    "其他",
)
LABOR_SKILLS = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
EDUCATION_LEVELS = ("文盲或半文盲", "小学", "初中", "高中", "中专", "大专", "本科及以上")
SCHOOLING = ("学前教育", "小学", "初中", "高中", "中职", "高职高专", "本科及以上")
HEALTH = ("健康", "长期慢性病", "患有大病", "残疾")
HOUSEHOLD_KINDS = ("脱贫户", "监测户")
MONITORING_KINDS = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")

_T, _D, _I, _Y = ColumnKind.TEXT, ColumnKind.DATE, ColumnKind.INTEGER, ColumnKind.YES_NO

COLUMNS: tuple[Column, ...] = (
    Column("省", "province", _T, household=True),
    Column("市", "city", _T, household=True),
    Column("县", "county", _T, required=True, household=True, aliases=("县（市、区）", "县(市、区)")),
    Column("乡", "township", _T, household=True, aliases=("乡（镇）", "乡镇")),
    Column("村", "village", _T, household=True, aliases=("行政村",)),
    Column("户编号", "household_id", _T, required=True, household=True),
    Column("人口编号", "person_code", _T),
    Column("姓名", "name", _T, required=True),
    Column("性别", "sex", _T, required=True, choices=SEXES),
    Column("出生日期", "birth_date", _D, required=True),
    Column("证件类型", "id_type", _T),
    Column("证件号码", "id_number", ColumnKind.ID_NUMBER, required=True, aliases=("身份证号码", "身份证号")),
    Column("民族", "ethnicity", _T),
    Column("户联系电话", "household_phone", ColumnKind.PHONE, household=True),
    Column("成员联系电话", "member_phone", ColumnKind.PHONE),
    Column("年度", "year", _I),
    Column("与户主关系", "relation", _T, required=True, choices=RELATIONS),
    Column("文化程度", "education", _T, choices=EDUCATION_LEVELS),
    Column("在校生状况", "schooling", _T, choices=SCHOOLING),
    Column("劳动技能", "labor_skill", _T, required=True, choices=LABOR_SKILLS),
    Column("务工时间（月）", "work_months", _I, required=True, aliases=("务工时间", "务工月数")),
    Column("健康状况", "health", _T, choices=HEALTH),
    Column("政治面貌", "political_status", _T),
    Column("务工企业名称", "employer_name", _T),
    Column("是否享受低保", "on_dibao", _Y, choices=YES_NO),
    Column("是否参加城镇职工基本养老保险", "urban_employee_pension", _Y, choices=YES_NO),
    Column("是否参加大病保险", "critical_illness_insurance", _Y, choices=YES_NO),
    Column("是否参加新型农村合作医疗（城乡居民基本医疗保险）", "resident_medical_insurance", _Y, choices=YES_NO),
    Column("是否参加城乡居民基本养老保险", "resident_pension", _Y, choices=YES_NO),
    Column("失学或辍学原因", "dropout_reason", _T),
    Column("是否会讲普通话", "speaks_mandarin", _Y, choices=YES_NO),
    Column("是否参加商业补充医疗保险", "commercial_medical_insurance", _Y, choices=YES_NO),
    Column("是否国外务工", "works_abroad", _Y, choices=YES_NO),
    Column("产业分类", "industry", _T),
    Column("是否接受大病医疗救助", "critical_illness_aid", _Y, choices=YES_NO),
    Column("是否接受其他健康扶贫", "other_health_aid", _Y, choices=YES_NO),
    Column("公益性岗位类型", "welfare_post_type", _T),
    Column("公益性岗位(月数)", "welfare_post_months", _I, aliases=("公益性岗位月数",)),
    Column("就业渠道", "employment_channel", _T),
    Column("残疾类别", "disability_kind", _T),
    Column("务工所在地", "work_place", _T, required=True),
    Column("户主姓名", "head_name", _T, household=True),
    Column("户主证件号码", "head_id_number", ColumnKind.ID_NUMBER, household=True),
    Column("是否参加城镇职工基本医疗保险", "urban_employee_medical", _Y, choices=YES_NO),
    Column("是否特困供养人员", "extreme_poverty_support", _Y, choices=YES_NO),
    Column("残疾证办证年度", "disability_certificate_year", _I),
    Column("识别标准", "identification_standard", _T, household=True),
    Column("户类型", "household_kind", _T, required=True, household=True, choices=HOUSEHOLD_KINDS),
    Column("监测对象类别", "monitoring_kind", _T, household=True, choices=MONITORING_KINDS),
    Column("风险是否已消除", "risk_removed", _Y, household=True, choices=YES_NO),
    # Not in every download: the checks that read it run only when the file has it.
    Column("风险消除时间", "risk_removed_on", _D, household=True, aliases=("风险消除日期",)),
)

BY_FIELD: dict[str, Column] = {column.field: column for column in COLUMNS}
TITLE = "全国防返贫监测信息系统 人口信息"
# Fewer known columns than this and the header is some other table, not a damaged copy of this one.
MIN_RECOGNISED = 5

# Excel and Chinese input methods mix full-width and half-width brackets and spaces in headers.
_WIDTH = str.maketrans({"（": "(", "）": ")", "\u3000": " "})
_SPACES = re.compile(r"\s+")


def normalise_label(label: str) -> str:
    return _SPACES.sub("", label.translate(_WIDTH))


_LOOKUP: dict[str, Column] = {
    normalise_label(name): column for column in COLUMNS for name in (column.label, *column.aliases)
}


@dataclass(frozen=True)
class LayoutMatch:
    """How a header row maps onto the layout: field -> column index, and what is missing."""

    columns: dict[str, int]
    missing_required: tuple[Column, ...]
    missing_optional: tuple[Column, ...]
    unknown_labels: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing_required

    def has(self, field: str) -> bool:
        return field in self.columns


def recognise(header_cells: Sequence[str]) -> LayoutMatch | None:
    """Match a header row to the layout; None when it is not this table at all.

    A header that names a column twice (two ``证件号码``) keeps the first and lists the second
    as unknown: a check must read one definite column.
    """
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(header_cells):
        label = str(cell or "").strip()
        if not label:
            continue
        # the reading layer joins merged group labels with "/": the column name is the last part
        column = _LOOKUP.get(normalise_label(label.rsplit("/", 1)[-1]))
        if column is None or column.field in columns:
            unknown.append(label)
            continue
        columns[column.field] = index
    if len(columns) < MIN_RECOGNISED:
        return None
    missing = [column for column in COLUMNS if column.field not in columns]
    return LayoutMatch(
        columns=columns,
        missing_required=tuple(c for c in missing if c.required),
        missing_optional=tuple(c for c in missing if not c.required),
        unknown_labels=tuple(unknown),
    )


def accepts(header_cells: Sequence[str]) -> bool:
    """For the reading layer's header search: these labels already hold every required column."""
    match = recognise(header_cells)
    return match is not None and match.complete


def layout_listing() -> str:
    """The layout in one line per column, for error messages that must show what is expected."""
    return "\n".join(
        f"  {column.label}{'（必需）' if column.required else ''}"
        + (f"：{'、'.join(column.choices)}" if column.choices and column.choices != YES_NO else "")
        for column in COLUMNS
    )
