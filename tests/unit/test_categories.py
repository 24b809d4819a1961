"""The one declared hierarchy of person categories (core/categories.py)."""

from __future__ import annotations

from bangfu.core.categories import ancestors, counts_as, facts_for, members, with_ancestors
from bangfu.core.vocabulary import CATEGORIES


def test_rural_low_income_includes_the_monitored_and_their_three_kinds() -> None:
    assert set(members("rural_low_income")) == {
        "rural_low_income",
        "monitored",
        "edge_of_poverty",
        "unstable_alleviated",
        "sudden_hardship",
    }
    assert set(members("monitored")) == {"monitored", "edge_of_poverty", "unstable_alleviated", "sudden_hardship"}


def test_poverty_alleviated_and_relocated_are_not_rural_low_income() -> None:
    # the 2021 text names them beside 农村低收入人口, never inside it
    assert not counts_as(["poverty_alleviated"], "rural_low_income")
    assert not counts_as(["relocated"], "rural_low_income")
    assert members("poverty_alleviated") == ("poverty_alleviated",)


def test_a_kind_counts_as_every_category_above_it() -> None:
    assert counts_as(["sudden_hardship"], "rural_low_income")
    assert counts_as(["edge_of_poverty"], "monitored")
    assert not counts_as(["monitored"], "edge_of_poverty")  # the parent is not each of its kinds
    assert ancestors("unstable_alleviated") == ("unstable_alleviated", "monitored", "rural_low_income")
    assert with_ancestors(["edge_of_poverty", "relocated"]) == (
        "edge_of_poverty",
        "monitored",
        "rural_low_income",
        "relocated",
    )


def test_low_income_allowance_and_extreme_poverty_support_count_as_rural_low_income() -> None:
    assert facts_for("rural_low_income") == ("minimum_living_allowance", "extreme_poverty_support")
    assert facts_for("monitored") == ()
    assert facts_for("poverty_alleviated") == ()


def test_every_code_is_in_the_vocabulary() -> None:
    for code in CATEGORIES:
        assert set(members(code)) <= set(CATEGORIES)
        assert code in members(code) and code in ancestors(code)


def test_rosters_naming_low_income_allowance_or_support_read_as_rural_low_income() -> None:
    from bangfu.registry.imports.values import parse_categories

    assert parse_categories("低保户、边缘易致贫户") == ("rural_low_income", "edge_of_poverty")
    assert parse_categories("特困供养人员") == ("rural_low_income",)
    assert parse_categories("监测户") == ("monitored",)
