"""The facts a rule may read: entities, their fields and their collections.

This schema is the contract between the case JSON, the columnar population tables and the
rule expressions. A rule may only name what is declared here, so a typo in a policy file is
caught when the policy loads, not when a case happens to reach it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from bangfu.core.categories import members
from bangfu.core.vocabulary import (
    CATEGORIES,
    KIND_LABELS,
    LABOR_CAPACITIES,
    LEGACY_LABOR_CAPACITIES,
    ORGANIZATION_KINDS,
)

# The ranges a case's numbers and dates may take (docs/policy-authoring.md, 案例取值范围). They are
# far wider than any real case and exist so that a typo or an attack (training.days = 1e20) is a
# clear refusal instead of an overflow or an amount of 10**23 fen.
DAYS = (0, 366)  # one training course, in days
MONTHS = (0, 120)  # one 以工代训 spell, in months
COUNT = (0, 1_000_000)  # people or households counted by an organization
FEN = (0, 10**11)  # an amount in fen: up to 10 亿元
DATES = (dt.date(1900, 1, 1), dt.date(2100, 12, 31))  # every date of a case


class FactType(StrEnum):
    INT = "int"
    BOOL = "bool"
    STR = "str"
    DATE = "date"
    STR_LIST = "str_list"


@dataclass(frozen=True)
class Field:
    name: str
    type: FactType
    label: str
    json_path: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    # Older codes still accepted in a case and read as their successor (labour capacity before 0006)
    legacy: tuple[tuple[str, str], ...] = ()
    # False where an empty value is itself a fact (an employment spell with no end is still running)
    missing_is_unknown: bool = True
    # The smallest and largest value an INT field may take (every INT field declares one).
    bounds: tuple[int, int] | None = None
    # For a list of codes with a declared hierarchy: code -> every code that counts as it
    # (``'rural_low_income' in categories`` also holds for ``edge_of_poverty``; core/categories.py).
    includes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def path(self) -> tuple[str, ...]:
        """Where the field sits in the case JSON (nested objects flatten to one column name)."""
        return self.json_path or (self.name,)


@dataclass(frozen=True)
class Collection:
    """A list of rows that belong to one entity, held as its own table in a population."""

    name: str
    label: str
    table: str
    fields: dict[str, Field]


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    key: str
    table: str
    fields: dict[str, Field]
    collections: dict[str, Collection] = field(default_factory=dict)


def _fields(*items: Field) -> dict[str, Field]:
    return {f.name: f for f in items}


RECEIVED_FIELDS = _fields(
    Field("benefit", FactType.STR, "已享受的政策"),
    Field("date", FactType.DATE, "享受日期"),
    # How many units of the benefit's repeat key the receipt paid (培训日、学员月、吸纳人数…); read
    # only by benefits paid per unit (``repeat.per`` in the policy), so that no unit is paid twice.
    Field("units", FactType.INT, "已享受的数量（天、月、人、户，按该项目的计发单位）", bounds=COUNT),
)

PERSON = Entity(
    name="person",
    label="个人",
    key="person_id",
    table="persons",
    fields=_fields(
        Field("region", FactType.STR, "所在县（区、市）代码", json_path=("$case", "region")),
        Field(
            "categories",
            FactType.STR_LIST,
            "人员类别",
            choices=CATEGORIES,
            includes=tuple((code, members(code)) for code in CATEGORIES if len(members(code)) > 1),
        ),
        Field("hukou_region", FactType.STR, "户籍所在县代码"),
        Field(
            "labor_capacity",
            FactType.STR,
            "劳动能力",
            choices=LABOR_CAPACITIES,
            legacy=tuple(LEGACY_LABOR_CAPACITIES.items()),
        ),
        Field("birth_date", FactType.DATE, "出生日期"),
        # 风险消除日期: the day a monitored household's risk of falling back was removed; empty while it
        # is not (so "not removed" is a known answer, not a gap). Programmes for 监测户 "风险未消除" read it.
        Field("risk_removed_on", FactType.DATE, "风险消除日期（空为未消除）", missing_is_unknown=False),
    ),
    collections={
        "employment": Collection(
            "employment",
            "就业经历",
            "employment",
            _fields(
                Field("start", FactType.DATE, "开始日期"),
                Field("end", FactType.DATE, "结束日期（空为在岗）", missing_is_unknown=False),
                Field("work_region", FactType.STR, "务工地区代码"),
                Field("organized_export", FactType.BOOL, "是否有组织劳务输出"),
                Field("travel_cost_fen", FactType.INT, "申报交通费（分）", bounds=FEN),
            ),
        ),
        "training": Collection(
            "training",
            "培训记录",
            "training",
            _fields(
                Field("start", FactType.DATE, "培训开始日期"),
                Field("days", FactType.INT, "培训天数", bounds=DAYS),
            ),
        ),
        "received": Collection("received", "已享受政策", "received", RECEIVED_FIELDS),
    },
)

ORGANIZATION = Entity(
    name="organization",
    label="单位",
    key="org_id",
    table="organizations",
    fields=_fields(
        Field("kind", FactType.STR, "单位类型", choices=ORGANIZATION_KINDS),
        Field("region", FactType.STR, "所在县（区、市）代码"),
        Field("recognized_base", FactType.BOOL, "是否认定为就业帮扶基地"),
        Field(
            "absorbed_poverty_alleviated",
            FactType.INT,
            "吸纳脱贫人口数",
            json_path=("absorbed", "poverty_alleviated"),
            bounds=COUNT,
        ),
        Field(
            "absorbed_edge_of_poverty",
            FactType.INT,
            "吸纳边缘易致贫人口数",
            json_path=("absorbed", "edge_of_poverty"),
            bounds=COUNT,
        ),
        Field("operating_since", FactType.DATE, "开始运营日期"),
        Field("resident_entities", FactType.INT, "入驻实体户数", bounds=COUNT),
        Field("absorbed_poor_workers", FactType.INT, "吸纳贫困劳动力人数", bounds=COUNT),
        Field("placed_by_export", FactType.INT, "有组织输出脱贫人口人数", bounds=COUNT),
        Field("contracted_households", FactType.INT, "建立业务承揽关系的脱贫家庭户数", bounds=COUNT),
    ),
    collections={
        "trainees": Collection(
            "trainees",
            "以工代训人员",
            "trainees",
            _fields(
                Field("start", FactType.DATE, "以工代训开始日期"),
                Field("months", FactType.INT, "以工代训月数", bounds=MONTHS),
                Field("previously_subsidized", FactType.BOOL, "是否已享受过以工代训补贴"),
            ),
        ),
        "received": Collection("received", "已享受政策", "org_received", RECEIVED_FIELDS),
    },
)

ENTITIES: dict[str, Entity] = {PERSON.name: PERSON, ORGANIZATION.name: ORGANIZATION}

__all__ = ["CATEGORIES", "ENTITIES", "KIND_LABELS", "LABOR_CAPACITIES", "ORGANIZATION_KINDS", "Entity", "Field"]
