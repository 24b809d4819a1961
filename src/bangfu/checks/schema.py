"""The facts a suspect-data rule may read about one row of the national person table.

Every column of the layout is a field under its English id, typed (a date column is a date, 是/否 a
boolean). A typed column also keeps the cell as written under ``<field>_text``, so that a rule can
tell "empty" from "written but not a date". Rows of the same household, and rows with the same ID
number, are collections a rule file's named aggregates run over (``household``, ``same_id``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bangfu.policy.facts import Collection, Entity, FactType, Field
from bangfu.registry.national_layout import COLUMNS, ColumnKind

_FACT_TYPES = {
    ColumnKind.TEXT: FactType.STR,
    ColumnKind.ID_NUMBER: FactType.STR,
    ColumnKind.PHONE: FactType.STR,
    ColumnKind.DATE: FactType.DATE,
    ColumnKind.INTEGER: FactType.INT,
    ColumnKind.YES_NO: FactType.BOOL,
}
TEXT_SUFFIX = "_text"
# the fields that say whose row it is: shown beside every suspect row
IDENTITY_FIELDS = frozenset(
    {"county", "township", "village", "household_number", "name", "id_number", "relation_to_head"}
)


@dataclass(frozen=True)
class Grouping:
    """A collection of rows sharing one key column with the row being checked (itself included)."""

    name: str
    key: str
    label: str


GROUPINGS: dict[str, Grouping] = {
    "household": Grouping("household", "household_number", "同户成员（户编号相同的行）"),
    "same_id": Grouping("same_id", "id_number", "证件号码相同的行"),
}


def _column_fields() -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for column in COLUMNS:
        fact_type = _FACT_TYPES[column.kind]
        fields[column.field] = Field(column.field, fact_type, column.label, choices=column.choices)
        if fact_type is not FactType.STR:
            fields[column.field + TEXT_SUFFIX] = Field(
                column.field + TEXT_SUFFIX, FactType.STR, f"{column.label}（原文）"
            )
    return fields


# Facts that only the registry knows, added when a file is checked with ``--database``
# (``checks/registry_lookup.py``); the rules reading them are in ``rules/registry.yaml``.
# ``registered_county`` is added to the file's rows; the others are facts of the registry's persons
# of the file's counties (``registry_rows``), which the rules written ``over: registry`` run on.
REGISTRY_FIELDS: dict[str, Field] = {
    field.name: field
    for field in (
        Field("registered_county", FactType.STR, "登记库中该证件号码的户籍县"),
        Field("in_download", FactType.BOOL, "在下载文件中"),
        Field("ledger_payments", FactType.INT, "台账发放笔数"),
        Field("ledger_yuan", FactType.STR, "台账发放金额"),
    )
}

ROW_FIELDS: dict[str, Field] = {**_column_fields(), **REGISTRY_FIELDS}


def field_label(name: str) -> str:
    """The Chinese name of a field a rule reads, for "not checked: … missing" notes."""
    return ROW_FIELDS[name].label


def source_column(field: str) -> str:
    """The layout field a fact is read from (``birth_date_text`` -> ``birth_date``)."""
    if field not in ROW_FIELDS:
        raise KeyError(field)
    if field.endswith(TEXT_SUFFIX) and field.removesuffix(TEXT_SUFFIX) in ROW_FIELDS:
        return field.removesuffix(TEXT_SUFFIX)
    return field


def aggregate_entity() -> Entity:
    """What a named aggregate's expression may read: the groupings' rows, each with every field."""
    collections = {g.name: Collection(g.name, g.label, g.name, dict(ROW_FIELDS)) for g in GROUPINGS.values()}
    return Entity("national_row", "人口信息行", "row_no", "rows", {}, collections)


def rule_entity(aggregates: dict[str, Field]) -> Entity:
    """What a rule may read: the row's fields and the rule file's named aggregates."""
    return Entity("national_row", "人口信息行", "row_no", "rows", {**ROW_FIELDS, **aggregates})
