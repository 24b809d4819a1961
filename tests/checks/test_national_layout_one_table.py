"""The import and the suspect-data checks read the national person layout from one table.

A column added to, renamed in or dropped from one user and not the other fails here: both derive
their fields, labels, aliases and vocabularies from ``registry.national_layout.COLUMNS``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from check_files import DAY, clean_file, write_csv

from bangfu.checks.ruleset import load_rules
from bangfu.checks.run import check_file
from bangfu.checks.schema import GROUPINGS, IDENTITY_FIELDS, REGISTRY_FIELDS, ROW_FIELDS, source_column
from bangfu.registry.imports import validate_national
from bangfu.registry.imports.headers import NATIONAL_PEOPLE, PEOPLE, map_columns
from bangfu.registry.imports.headers import recognise as recognise_kind
from bangfu.registry.national_layout import BY_FIELD, COLUMNS, recognise


def test_every_import_field_is_a_column_of_the_one_table() -> None:
    imported = [c for c in COLUMNS if c.imported]
    assert [f.name for f in NATIONAL_PEOPLE.fields] == [c.field for c in imported]
    for field, column in zip(NATIONAL_PEOPLE.fields, imported, strict=True):
        assert (field.label, field.aliases, field.required, field.note) == (
            column.label,
            column.aliases,
            column.required_for_import,
            column.note,
        )
    assert all(c.imported for c in COLUMNS if c.required_for_import)


def test_every_checks_field_is_a_column_of_the_one_table() -> None:
    # Besides the layout's columns, only the facts that the registry adds (``--database``) and no download has.
    assert not set(REGISTRY_FIELDS) & set(BY_FIELD)
    assert {source_column(name) for name in ROW_FIELDS if name not in REGISTRY_FIELDS} == set(BY_FIELD)
    assert {name for name in ROW_FIELDS if name in BY_FIELD} == set(BY_FIELD)
    assert IDENTITY_FIELDS.issubset(BY_FIELD)
    assert {g.key for g in GROUPINGS.values()} <= set(BY_FIELD)
    rules = load_rules()
    assert set().union(*(rule.fields for rule in rules.rules)) <= set(ROW_FIELDS) | set(rules.aggregates)


def test_every_field_the_national_validator_reads_is_imported() -> None:
    imported = {c.field for c in COLUMNS if c.imported}
    assert set(validate_national.TEXT_LIMITS) <= imported
    assert set(validate_national.KEPT_AS_WRITTEN) <= imported


def test_the_import_and_the_checks_share_the_closed_vocabularies() -> None:
    assert tuple(validate_national.HOUSEHOLD_KINDS) == BY_FIELD["household_kind"].choices
    assert tuple(validate_national.MONITORING_CATEGORIES) == BY_FIELD["monitoring_category"].choices


@pytest.mark.parametrize("kind", ["一般农户", "一般户"])
def test_a_household_kind_the_import_accepts_is_not_a_suspect(kind: str, tmp_path: Path) -> None:
    assert validate_national.parse_household_kind(kind) == ()
    made = clean_file()
    made.set_household(0, household_kind=kind)
    only = load_rules(disabled=[r.id for r in load_rules().rules if r.id != "JC01"])
    with check_file(write_csv(made, tmp_path / "kinds.csv"), only, DAY) as run:
        assert run.connection is not None
        assert run.connection.execute("SELECT count(*) FROM hits WHERE rule = 'JC01'").fetchone() == (0,)


HEADERS = [
    [c.label for c in COLUMNS],
    ["户编号", "姓名", "证件号码", "与户主关系", "劳动技能"],
    ["全国防返贫监测信息系统 人口信息/证件号码", "标题/人口编号", "标题/户类型"],
    ["姓名", "证件号码", "户籍所在县", "人员类别", "劳动能力", "联系电话"],
    ["单位名称", "统一社会信用代码", "姓名", "证件号码"],
    ["县", "乡", "村", "户编号", "姓名", "性别"],
]


@pytest.mark.parametrize("header", HEADERS)
def test_the_import_and_the_checks_recognise_the_same_headers(header: list[str]) -> None:
    match = recognise(header)
    assert recognise_kind("people", header) is (PEOPLE if match is None else NATIONAL_PEOPLE)
    if match is not None and match.complete:
        assert map_columns("people", header).layout == "national"


def test_the_registry_export_names_fields_of_the_one_table() -> None:
    # A field renamed in the table but not in the registry export would silently read as "not stored".
    from bangfu.checks.registry_source import STORED_FIELDS

    assert set(STORED_FIELDS) <= set(BY_FIELD)
