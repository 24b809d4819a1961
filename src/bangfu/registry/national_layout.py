"""The person table (人口信息) of the national monitoring system (全国防返贫监测信息系统), as counties download it.

One row per person; the household's fields (户编号, 户主姓名, 户类型 …) repeat on every member's row.
Downloads differ in column order and carry extra columns, so a file is recognised by its header
labels, never by position. This module is the one table of the layout (no I/O): the suspect-data
checks (``checks.schema``) and the registry importer (``headers.NATIONAL_PEOPLE``, derived from the
columns marked ``imported``) both read it, so a column is named, typed, aliased, marked required for
each use and given its vocabulary once.

Vocabularies are the values seen in national downloads and in publicly shared county checking
scripts; they are used to flag values outside them, never to rewrite a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bangfu.registry.imports.header_rows import match_keys, normalize_header


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
    field: str  # English id used in code, in rule expressions and by the importer
    kind: ColumnKind
    required_for_checks: bool = False  # ``bangfu check`` refuses a file without it
    choices: tuple[str, ...] = ()  # closed vocabulary; empty when the column is free text
    household: bool = False  # the same value on every member's row of a household
    aliases: tuple[str, ...] = ()  # other headers seen for the same column
    imported: bool = False  # ``bangfu import people`` reads it (others go to the original record)
    required_for_import: bool = False  # the import refuses a file without it
    note: str = ""  # what the import expects in it, for docs/import-headers.md and messages


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
# 一般农户 (also written 一般户): neither alleviated nor monitored; the import accepts it, so the checks do.
HOUSEHOLD_KINDS = ("脱贫户", "监测户", "一般农户", "一般户")
MONITORING_KINDS = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")

_T, _D, _I, _Y = ColumnKind.TEXT, ColumnKind.DATE, ColumnKind.INTEGER, ColumnKind.YES_NO

_ID_NOTE = "18 位（或 15 位旧号），可含全角数字、空格，末位 x 大小写均可"
_KEPT = "保留在原始记录中"
_YES_NO_NOTE = "是/否"

COLUMNS: tuple[Column, ...] = (
    Column("省", "province", _T, household=True, aliases=("省份",), imported=True, note=_KEPT),
    Column(
        "市", "city", _T, household=True, aliases=("市州", "地市"), imported=True, note="与县一起确定县代码（同名的区）"
    ),
    Column(
        "县",
        "county",
        _T,
        required_for_checks=True,
        household=True,
        aliases=("县（市、区）", "县区", "县(区)"),
        imported=True,
        required_for_import=True,
        note="山西省的县（区、市）名称",
    ),
    Column(
        "乡",
        "township",
        _T,
        household=True,
        aliases=("乡（镇）", "乡镇", "乡(镇、街道)"),
        imported=True,
        required_for_import=True,
        note="该县的乡镇（街道）名称",
    ),
    Column("村", "village", _T, household=True, aliases=("行政村",), imported=True, note=_KEPT),
    Column(
        "户编号",
        "household_number",
        _T,
        required_for_checks=True,
        household=True,
        imported=True,
        required_for_import=True,
    ),
    Column("人口编号", "person_number", _T, aliases=("成员编号",), imported=True, required_for_import=True),
    Column("姓名", "name", _T, required_for_checks=True, imported=True, required_for_import=True),
    Column("性别", "sex", _T, required_for_checks=True, choices=SEXES, imported=True, note="男/女；须与证件号码一致"),
    Column("出生日期", "birth_date", _D, required_for_checks=True, imported=True, note="须与证件号码一致"),
    Column("证件类型", "id_type", _T, imported=True, note=_KEPT),
    Column(
        "证件号码",
        "id_number",
        ColumnKind.ID_NUMBER,
        required_for_checks=True,
        aliases=("身份证号码", "身份证号"),
        imported=True,
        required_for_import=True,
        note=_ID_NOTE,
    ),
    Column("民族", "ethnicity", _T),
    Column(
        "户联系电话",
        "household_phone",
        ColumnKind.PHONE,
        household=True,
        imported=True,
        note="成员联系电话为空时用作联系电话",
    ),
    Column("成员联系电话", "member_phone", ColumnKind.PHONE, imported=True),
    Column("年度", "year", _I, imported=True, required_for_import=True, note="务工、公益性岗位信息所属的年份"),
    Column(
        "与户主关系",
        "relation_to_head",
        _T,
        required_for_checks=True,
        choices=RELATIONS,
        imported=True,
        required_for_import=True,
    ),
    Column("文化程度", "education", _T, choices=EDUCATION_LEVELS, imported=True),
    Column("在校生状况", "schooling", _T, choices=SCHOOLING, imported=True),
    Column(
        "劳动技能",
        "labor_skill",
        _T,
        required_for_checks=True,
        choices=LABOR_SKILLS,
        imported=True,
        required_for_import=True,
        note="技能劳动力、普通劳动力、弱劳动力或半劳动力、丧失劳动力、无劳动力",
    ),
    Column(
        "务工时间（月）",
        "work_months",
        _I,
        required_for_checks=True,
        aliases=("务工时间", "务工月数"),
        imported=True,
        note="0 至 12",
    ),
    Column("健康状况", "health", _T, choices=HEALTH, imported=True),
    Column("政治面貌", "political_status", _T),
    Column("务工企业名称", "employer_name", _T, imported=True),
    Column("是否享受低保", "minimum_living_allowance", _Y, choices=YES_NO, imported=True, note=_YES_NO_NOTE),
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
    Column("公益性岗位类型", "welfare_post_type", _T, imported=True),
    Column("公益性岗位(月数)", "welfare_post_months", _I, aliases=("公益性岗位月数",), imported=True, note="0 至 12"),
    Column("就业渠道", "employment_channel", _T, imported=True),
    Column("残疾类别", "disability", _T, imported=True),
    Column("务工所在地", "work_place", _T, required_for_checks=True, imported=True),
    Column("户主姓名", "head_name", _T, household=True, imported=True, required_for_import=True),
    Column(
        "户主证件号码",
        "head_id_number",
        ColumnKind.ID_NUMBER,
        household=True,
        aliases=("户主身份证号码", "户主身份证号"),
        imported=True,
        required_for_import=True,
        note="同证件号码",
    ),
    Column("是否参加城镇职工基本医疗保险", "urban_employee_medical", _Y, choices=YES_NO),
    Column("是否特困供养人员", "extreme_poverty_support", _Y, choices=YES_NO, imported=True, note=_YES_NO_NOTE),
    Column("残疾证办证年度", "disability_certificate_year", _I),
    Column("识别标准", "identification_standard", _T, household=True),
    Column(
        "户类型",
        "household_kind",
        _T,
        required_for_checks=True,
        household=True,
        choices=HOUSEHOLD_KINDS,
        imported=True,
        required_for_import=True,
        note="脱贫户、监测户、一般农户、一般户",
    ),
    Column(
        "监测对象类别",
        "monitoring_category",
        _T,
        household=True,
        choices=MONITORING_KINDS,
        imported=True,
        note="脱贫不稳定户、边缘易致贫户、突发严重困难户",
    ),
    Column("风险是否已消除", "risk_removed", _Y, household=True, choices=YES_NO, imported=True, note=_YES_NO_NOTE),
    # Not in every download: the checks that read it run only when the file has it.
    Column("风险消除时间", "risk_removed_on", _D, household=True, aliases=("风险消除日期",)),
)

BY_FIELD: dict[str, Column] = {column.field: column for column in COLUMNS}
TITLE = "全国防返贫监测信息系统 人口信息"
# Labels only this layout uses (Bangfu's own roster and the other tables have none of them, or one:
# 证件号码): a header with ``SIGNATURE_MIN`` of them is this table, damaged or not, so that a
# download with columns missing is told which ones instead of being taken for another table.
SIGNATURE = ("证件号码", "人口编号", "与户主关系", "劳动技能", "户主证件号码", "户类型", "成员联系电话")
SIGNATURE_MIN = 3

_LOOKUP: dict[str, Column] = {
    normalize_header(name): column for column in COLUMNS for name in (column.label, *column.aliases)
}
_SIGNATURE_KEYS = frozenset(normalize_header(label) for label in SIGNATURE)


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
    """Match a header row to the layout; None when it is not this table at all (fewer than
    ``SIGNATURE_MIN`` of its ``SIGNATURE`` labels). The one recognition of this layout: the
    suspect-data checks read the match, the import (``headers.recognise``) asks whether there is one.

    A header that names a column twice (two ``证件号码``) keeps the first and lists the second
    as unknown: a check must read one definite column.
    """
    labels = [str(cell or "").strip() for cell in header_cells]
    keys = [match_keys(label) if label else [] for label in labels]
    if len(_SIGNATURE_KEYS.intersection(key for label_keys in keys for key in label_keys)) < SIGNATURE_MIN:
        return None
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, (label, label_keys) in enumerate(zip(labels, keys, strict=True)):
        if not label:
            continue
        # the full label, else its last part (the reading layer joins merged group labels with "/")
        column = next((_LOOKUP[key] for key in label_keys if key in _LOOKUP), None)
        if column is None or column.field in columns:
            unknown.append(label)
            continue
        columns[column.field] = index
    missing = [column for column in COLUMNS if column.field not in columns]
    return LayoutMatch(
        columns=columns,
        missing_required=tuple(c for c in missing if c.required_for_checks),
        missing_optional=tuple(c for c in missing if not c.required_for_checks),
        unknown_labels=tuple(unknown),
    )


def accepts(header_cells: Sequence[str]) -> bool:
    """For the reading layer's header search: these labels already hold every required column."""
    match = recognise(header_cells)
    return match is not None and match.complete


def layout_listing() -> str:
    """The layout in one line per column, for error messages that must show what is expected."""
    return "\n".join(
        f"  {column.label}{'（必需）' if column.required_for_checks else ''}"
        + (f"：{'、'.join(column.choices)}" if column.choices and column.choices != YES_NO else "")
        for column in COLUMNS
    )
