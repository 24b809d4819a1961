"""Recognising the national person table (人口信息) from its header, whatever the order and widths."""

from __future__ import annotations

import random

from bangfu.registry.national_layout import BY_FIELD, COLUMNS, accepts, layout_listing, recognise


def test_columns_in_any_order_with_extra_columns_are_recognised() -> None:
    labels = [c.label for c in COLUMNS] + ["备注", "联系人"]
    random.Random(7).shuffle(labels)
    match = recognise(labels)
    assert match is not None and match.complete
    assert {field: labels[index] for field, index in match.columns.items()} == {c.field: c.label for c in COLUMNS}
    assert set(match.unknown_labels) == {"备注", "联系人"}


def test_bracket_widths_spaces_and_merged_group_labels_do_not_matter() -> None:
    labels = [c.label for c in COLUMNS if c.required_for_checks]
    labels[labels.index("务工时间（月）")] = "务工时间(月)"
    labels[labels.index("姓名")] = "基本信息/姓 名"
    labels.append("公益性岗位（月数）")
    match = recognise(labels)
    assert match is not None and match.complete
    assert match.columns["work_months"] == labels.index("务工时间(月)")
    assert match.columns["name"] == labels.index("基本信息/姓 名")
    assert match.has("welfare_post_months")


def test_missing_required_columns_are_named_in_layout_order() -> None:
    labels = [c.label for c in COLUMNS if c.field not in ("relation_to_head", "id_number", "risk_removed_on")]
    match = recognise(labels)
    assert match is not None and not match.complete
    assert [c.label for c in match.missing_required] == ["证件号码", "与户主关系"]
    assert [c.label for c in match.missing_optional] == ["风险消除时间"]
    assert not accepts(labels)


def test_a_header_of_another_table_is_not_this_layout() -> None:
    assert recognise(["单位名称", "统一社会信用代码", "姓名", "证件号码"]) is None
    assert recognise(["全国防返贫监测信息系统 人口信息"]) is None


def test_a_repeated_column_keeps_the_first_and_lists_the_second() -> None:
    labels = [c.label for c in COLUMNS] + ["证件号码"]
    match = recognise(labels)
    assert match is not None
    assert match.columns["id_number"] == labels.index("证件号码") and match.unknown_labels == ("证件号码",)


def test_the_listing_names_every_column_and_the_closed_vocabularies() -> None:
    listing = layout_listing()
    assert all(c.label in listing for c in COLUMNS)
    assert "劳动技能（必需）：技能劳动力、普通劳动力、弱劳动力或半劳动力、丧失劳动力、无劳动力" in listing
    assert BY_FIELD["relation_to_head"].choices[:3] == ("户主", "配偶", "之子")
