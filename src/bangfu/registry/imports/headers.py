"""Which column of a county spreadsheet holds which field, per kind of import.

County staff name columns in several ways (``身份证号``, ``身份证号码``, ``公民身份号码``), add
spaces, full-width brackets or a ``*`` marking a required column, and put group labels above
(``基本信息/姓名``). Headers are compared after ``normalize_header``; a grouped label matches on
its full text or on its last part. The table below is the contract documented in
docs/import-headers.md; extra columns are allowed and ignored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bangfu.registry import national_layout
from bangfu.registry.imports.header_rows import match_keys, normalize_header


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = True
    note: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class KindSpec:
    name: str
    label: str
    fields: tuple[FieldSpec, ...]
    # "" for Bangfu's own roster; another layout of the same kind is recognised by its header
    layout: str = ""
    # Whether a header is in this layout (for a layout other than Bangfu's own)
    recognised_by: Callable[[Sequence[str]], bool] | None = None

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


_ID_ALIASES = ("身份证号码", "公民身份号码", "身份证", "证件号码")
_HUKOU_ALIASES = ("户籍地", "户籍县（区）", "户籍所在县（区）", "户籍所在县（区、市）", "户籍所在地", "户籍县")
_PHONE_ALIASES = ("手机号", "手机号码", "电话", "联系方式")
_ID_NOTE = "18 位（或 15 位旧号），可含全角数字、空格，末位 x 大小写均可"
_KIND_NOTE = "企业、就业帮扶车间、人力资源服务机构、劳务经纪人、创业孵化基地、非遗工坊"
_MONEY_NOTE = "元，最多两位小数"
_CATEGORY_NOTE = "多个类别用顿号、逗号、分号或空格分隔，如“脱贫人口、易地搬迁”"

PEOPLE = KindSpec(
    "people",
    "人员",
    (
        FieldSpec("name", "姓名", ("名字",)),
        FieldSpec("id_number", "身份证号", _ID_ALIASES, note=_ID_NOTE),
        FieldSpec("hukou_region", "户籍所在县", _HUKOU_ALIASES, note="山西省的县（区、市）名称或 6 位行政区划代码"),
        FieldSpec("categories", "人员类别", ("类别",), note=_CATEGORY_NOTE),
        FieldSpec("labor_capacity", "劳动能力", note="全劳力、弱劳力、半劳力"),
        FieldSpec("phone", "联系电话", _PHONE_ALIASES, note="11 位手机号或带区号的固定电话；可空"),
        FieldSpec("sex", "性别", required=False, note="男/女；填写时须与身份证号一致"),
        FieldSpec("birth_date", "出生日期", required=False, note="填写时须与身份证号一致"),
        FieldSpec("household_number", "户编号", ("家庭编号",), required=False),
    ),
)

HOUSEHOLDS = KindSpec(
    "households",
    "家庭户",
    (
        FieldSpec("household_number", "户编号", ("家庭编号",)),
        FieldSpec("head_name", "户主姓名", ("户主",)),
        FieldSpec("head_id_number", "户主身份证号", ("户主身份证号码", "户主公民身份号码"), note="同人员的身份证号"),
        FieldSpec("hukou_region", "户籍所在县", _HUKOU_ALIASES, note="山西省的县（区、市）名称或 6 位行政区划代码"),
        FieldSpec("member_count", "家庭人口数", ("家庭人口", "人口数", "家庭人数"), required=False, note="正整数"),
        FieldSpec("categories", "户类别", ("人员类别", "类别"), required=False, note=_CATEGORY_NOTE),
        FieldSpec("phone", "联系电话", _PHONE_ALIASES, required=False),
    ),
)

ORGANIZATIONS = KindSpec(
    "organizations",
    "单位",
    (
        FieldSpec("name", "单位名称", ("名称", "企业名称", "主体名称")),
        FieldSpec(
            "credit_code",
            "统一社会信用代码",
            ("信用代码", "社会信用代码"),
            note="18 位，校验位按 GB 32100-2015 检查；劳务经纪人可空",
        ),
        FieldSpec("kind", "单位类型", ("类型", "主体类型"), note=_KIND_NOTE),
        FieldSpec(
            "region", "所在县", ("所在县（区）", "所在县（区、市）", "所在地", "所在地区"), note="山西省的县（区、市）"
        ),
        FieldSpec(
            "township",
            "所在乡镇（街道）",
            ("所在乡镇", "乡镇（街道）", "乡镇"),
            required=False,
            note="所在县的乡镇（街道），名称或 9 位代码；填写后乡镇账户可以看到本单位",
        ),
        FieldSpec("contact_name", "联系人", required=False),
        FieldSpec("phone", "联系电话", _PHONE_ALIASES, required=False),
        FieldSpec(
            "recognized_base",
            "是否认定为就业帮扶基地",
            ("就业帮扶基地", "是否就业帮扶基地"),
            required=False,
            note="是/否",
        ),
        FieldSpec("operating_since", "开始运营日期", ("成立日期", "运营日期"), required=False),
    ),
)

EMPLOYMENT = KindSpec(
    "employment",
    "务工就业",
    (
        FieldSpec("id_number", "身份证号", _ID_ALIASES),
        FieldSpec("name", "姓名", ("名字",), required=False, note="仅供核对，不导入"),
        FieldSpec("employer", "用工单位", ("工作单位", "就业单位", "务工单位")),
        FieldSpec(
            "work_region", "务工地", ("务工地点", "就业地", "就业地点", "务工地区"), note="省、市、县名称或行政区划代码"
        ),
        FieldSpec("start_date", "开始日期", ("务工开始日期", "入职日期", "务工时间")),
        FieldSpec("end_date", "结束日期", ("务工结束日期", "离职日期"), required=False, note="空表示仍在岗"),
        FieldSpec(
            "organized_export", "是否有组织输出", ("有组织输出", "是否有组织劳务输出"), required=False, note="是/否"
        ),
        FieldSpec(
            "travel_cost_fen",
            "交通费（元）",
            ("交通费", "交通费用（元）", "交通费用"),
            required=False,
            note=_MONEY_NOTE,
        ),
        FieldSpec("job", "岗位", ("工种", "职业"), required=False),
        FieldSpec(
            "monthly_income_fen", "月收入（元）", ("月工资（元）", "月收入", "月工资"), required=False, note=_MONEY_NOTE
        ),
    ),
)

TRAINING = KindSpec(
    "training",
    "培训",
    (
        FieldSpec("id_number", "身份证号", _ID_ALIASES),
        FieldSpec("name", "姓名", ("名字",), required=False, note="仅供核对，不导入"),
        FieldSpec("provider", "培训机构", ("培训单位", "承训机构")),
        FieldSpec("program", "培训项目", ("培训专业", "培训工种", "培训内容")),
        FieldSpec("start_date", "开始日期", ("培训开始日期", "培训日期")),
        FieldSpec("days", "天数", ("培训天数",), note="正整数"),
        FieldSpec("certificate", "证书", ("取得证书", "证书名称", "获得证书"), required=False),
    ),
)


def _is_national(header: Sequence[str]) -> bool:
    return national_layout.recognise(header) is not None


# The person table (人口信息) of the national monitoring system (全国防返贫监测信息系统): its columns,
# aliases, notes and which of them the import needs come from the one table in
# ``registry.national_layout`` (the suspect-data checks read the same table). Columns the import does
# not read are kept in the person's original record (``original_record``), not dropped.
NATIONAL_PEOPLE = KindSpec(
    "people",
    "全国防返贫监测信息系统人口信息",
    tuple(
        FieldSpec(c.field, c.label, c.aliases, required=c.required_for_import, note=c.note)
        for c in national_layout.COLUMNS
        if c.imported
    ),
    layout="national",
    recognised_by=_is_national,
)

# Other layouts a kind's file may come in, besides Bangfu's own (``KINDS``).
LAYOUTS: dict[str, tuple[KindSpec, ...]] = {"people": (NATIONAL_PEOPLE,)}

KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (PEOPLE, HOUSEHOLDS, ORGANIZATIONS, EMPLOYMENT, TRAINING)}


class HeaderError(ValueError):
    """The header lacks required columns or names a field twice; the message says what to fix."""

    def __init__(self, message: str, missing: tuple[str, ...] = (), duplicated: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing
        self.duplicated = duplicated


@dataclass(frozen=True)
class ColumnMap:
    """Where each field sits: ``labels[field]`` is the header label (a key of ``RawRow.values``)."""

    kind: str
    labels: dict[str, str]
    unused: tuple[str, ...]
    layout: str = ""

    def has(self, field: str) -> bool:
        return field in self.labels


def _kind(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"未知的导入类型“{kind}”，可选：{'、'.join(KINDS)}") from None


@functools.cache
def _alias_index(spec: KindSpec) -> dict[str, str]:
    return {normalize_header(header): field.name for field in spec.fields for header in field.headers}


def _assign(spec: KindSpec, header: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    index = _alias_index(spec)
    found: dict[str, list[str]] = {}
    unused: list[str] = []
    for label in header:
        field = next((index[key] for key in match_keys(label) if key in index), None)
        if field is None:
            unused.append(label)
        else:
            found.setdefault(field, []).append(label)
    return found, unused


def recognise(kind: str, header: Sequence[str]) -> KindSpec:
    """The layout of ``kind`` the header is in: another layout when enough of its own labels are
    there (so that a national export with columns missing is still told which ones), else Bangfu's."""
    spec = _kind(kind)
    for layout in LAYOUTS.get(kind, ()):
        if layout.recognised_by is not None and layout.recognised_by(header):
            return layout
    return spec


def layout_spec(kind: str, layout: str) -> KindSpec:
    """The spec of ``kind`` in ``layout`` ("" for Bangfu's own)."""
    for spec in LAYOUTS.get(kind, ()):
        if spec.layout == layout:
            return spec
    return _kind(kind)


def expected_headers_zh(kind: str, layout: str = "") -> str:
    """The expected columns, one a line, with their accepted aliases: for messages and docs."""
    lines = []
    for field in layout_spec(kind, layout).fields:
        aliases = f"（也可写作：{'、'.join(field.aliases)}）" if field.aliases else ""
        mark = "必需" if field.required else "可选"
        lines.append(f"  {field.label}{aliases} —— {mark}")
    return "\n".join(lines)


def map_columns(kind: str, header: Sequence[str]) -> ColumnMap:
    """Map a file's header labels to the fields of ``kind``; raises ``HeaderError`` listing the
    missing or repeated columns, the expected headers with their aliases, and what was found."""
    spec = recognise(kind, header)
    found, unused = _assign(spec, header)
    missing = tuple(field.label for field in spec.fields if field.required and field.name not in found)
    duplicated = tuple(spec.field(name).label for name, labels in found.items() if len(labels) > 1)
    if missing or duplicated:
        problems = []
        if missing:
            problems.append(f"缺少必需的列：{'、'.join(missing)}")
        for name, labels in found.items():
            if len(labels) > 1:
                quoted = "、".join(f"“{label}”" for label in labels)
                problems.append(f"列重复：{quoted} 都表示“{spec.field(name).label}”，请只保留一列")
        message = (
            f"{spec.label}导入文件的表头有误：{'；'.join(problems)}。\n"
            f"应有的列（括号内为可接受的其他写法）：\n{expected_headers_zh(kind, spec.layout)}\n"
            f"文件中找到的列：{'、'.join(header) or '（无）'}"
        )
        raise HeaderError(message, missing, duplicated)
    return ColumnMap(kind, {name: labels[0] for name, labels in found.items()}, tuple(unused), spec.layout)


def accepts(kind: str) -> Callable[[Sequence[str]], bool]:
    """A check for ``open_table``: whether some header labels already hold every required column."""
    specs = (_kind(kind), *LAYOUTS.get(kind, ()))

    def check(header: Sequence[str]) -> bool:
        for spec in specs:
            found, _ = _assign(spec, header)
            if all(field.name in found for field in spec.fields if field.required):
                return True
        return False

    return check
