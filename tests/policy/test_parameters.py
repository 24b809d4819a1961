"""Dated parameters: regional resolution, dated nulls, what-if splicing and exact money text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bangfu.policy.case import parse_case
from bangfu.policy.engine import evaluate_case
from bangfu.policy.loader import load_policy
from bangfu.policy.model import Policy
from bangfu.policy.parameters import Citation, DatedValue, Parameter, format_value

CITE = Citation("test", "（四）", "原文")
D = dt.date


def value(start: dt.date, end: dt.date | None, amount: object | None) -> DatedValue:
    return DatedValue(start, end, amount, CITE)


@pytest.fixture
def layered() -> Parameter:
    """Province 100; city 1411 (吕梁) 200; county 141123 (兴县) 300; county 141124 repealed from 2023."""
    return Parameter(
        key="demo.cap_fen",
        label="演示",
        unit="fen",
        citation=CITE,
        values=(value(D(2021, 7, 1), None, 100),),
        overrides={
            "1411": (value(D(2021, 7, 1), None, 200),),
            "141123": (value(D(2021, 7, 1), None, 300),),
            "141124": (value(D(2022, 1, 1), D(2022, 12, 31), 500), value(D(2023, 1, 1), None, None)),
        },
    )


def test_county_override_wins(layered: Parameter) -> None:
    resolved = layered.resolve(D(2024, 6, 30), "141123")
    assert (resolved.value, resolved.level) == (300, "141123")


def test_city_override_applies_to_other_counties_of_the_city(layered: Parameter) -> None:
    resolved = layered.resolve(D(2024, 6, 30), "141125")
    assert (resolved.value, resolved.level) == (200, "1411")


def test_province_value_elsewhere(layered: Parameter) -> None:
    resolved = layered.resolve(D(2024, 6, 30), "140105")
    assert (resolved.value, resolved.level) == (100, "14")
    assert layered.resolve(D(2024, 6, 30), None).value == 100


def test_township_code_resolves_through_its_county(layered: Parameter) -> None:
    assert layered.resolve(D(2024, 6, 30), "141123100").value == 300


def test_county_range_not_covering_the_date_falls_back_to_city(layered: Parameter) -> None:
    # 141124's own values start in 2022; before that the city value applies
    resolved = layered.resolve(D(2021, 8, 1), "141124")
    assert (resolved.value, resolved.level) == (200, "1411")
    assert layered.resolve(D(2022, 6, 1), "141124").value == 500


def test_dated_null_means_unset_without_fallback(layered: Parameter) -> None:
    resolved = layered.resolve(D(2023, 1, 1), "141124")
    assert resolved.value is None
    assert resolved.level is None
    assert resolved.citation == CITE  # the repeal itself is cited


def test_before_any_value_is_unset(layered: Parameter) -> None:
    resolved = layered.resolve(D(2021, 6, 30), "140105")
    assert resolved.value is None and resolved.level is None and resolved.citation is None


def test_with_override_splices_from_a_date(policy: Policy) -> None:
    cap = policy.parameters["transport_cross_province.cap_fen"]
    new = cap.with_override(value(D(2024, 1, 1), None, 100000), None)
    assert new.resolve(D(2023, 6, 30), None).value == 80000
    assert new.resolve(D(2023, 12, 31), None).value == 80000
    assert new.resolve(D(2024, 1, 1), None).value == 100000
    assert new.resolve(D(2025, 6, 30), "141123").value == 100000
    assert [(v.start, v.end, v.value) for v in new.values] == [
        (D(2021, 7, 1), D(2023, 12, 31), 80000),
        (D(2024, 1, 1), None, 100000),
    ]
    # the original is untouched
    assert cap.resolve(D(2024, 6, 30), None).value == 80000


def test_with_bounded_override_splits_the_range(policy: Policy) -> None:
    cap = policy.parameters["transport_cross_province.cap_fen"]
    new = cap.with_override(value(D(2024, 1, 1), D(2024, 12, 31), 100000), None)
    assert [(v.start, v.end, v.value) for v in new.values] == [
        (D(2021, 7, 1), D(2023, 12, 31), 80000),
        (D(2024, 1, 1), D(2024, 12, 31), 100000),
        (D(2025, 1, 1), None, 80000),
    ]
    for earlier, later in zip(new.values, new.values[1:], strict=False):
        assert not earlier.overlaps(later)


def test_with_regional_override_leaves_other_regions(policy: Policy) -> None:
    cap = policy.parameters["transport_cross_province.cap_fen"]
    new = cap.with_override(value(D(2024, 1, 1), None, 100000), "1411")
    assert new.resolve(D(2024, 6, 30), "141123").value == 100000
    assert new.resolve(D(2024, 6, 30), "141123").level == "1411"
    assert new.resolve(D(2024, 6, 30), "140105").value == 80000
    assert new.resolve(D(2023, 6, 30), "141123").value == 80000


def test_regional_override_from_yaml_reaches_the_engine(policy_copy: Callable[..., Path]) -> None:
    folder = policy_copy(
        {
            "parameters/04-labour-export.yaml": [
                (
                    "    - {from: 2021-07-01, value: 80000}",
                    "    - {from: 2021-07-01, value: 80000}\n"
                    "  regions:\n"
                    "    '1411':\n"
                    "      - {from: 2021-07-01, value: 90000}\n"
                    "    '141124':\n"
                    "      - {from: 2021-07-01, value: null}",
                )
            ]
        }
    )
    loaded = load_policy(folder)

    def cross_province(region: str) -> dict[str, Any]:
        case = parse_case(
            {
                "date": "2024-06-30",
                "region": region,
                "person": {
                    "categories": ["poverty_alleviated"],
                    "hukou_region": region,
                    "employment": [
                        {
                            "start": "2024-03-01",
                            "work_region": "440305",
                            "organized_export": False,
                            "travel_cost_fen": 95000,
                        }
                    ],
                },
            }
        )
        result = evaluate_case(loaded, case)
        return next(b for b in result["benefits"] if b["id"] == "transport_cross_province")

    assert cross_province("141123")["amount_fen"] == 90000
    assert cross_province("140105")["amount_fen"] == 80000
    unset = cross_province("141124")
    assert unset["status"] == "needs_information"
    assert "parameter:transport_cross_province.cap_fen" in unset["missing"]
    entry = next(p for p in cross_province("141123")["parameters"] if p["key"] == "transport_cross_province.cap_fen")
    assert entry["set_at"] == "1411"


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00 元"),
        (1, "0.01 元"),
        (80000, "800.00 元"),
        (79999, "799.99 元"),
        (10000000, "100,000.00 元"),
        (123456789, "1,234,567.89 元"),
        # beyond float precision: must stay exact
        (900719925474099301, "9,007,199,254,740,993.01 元"),
    ],
)
def test_format_value_fen_is_exact(fen: int, text: str) -> None:
    assert format_value(fen, "fen") == text


def test_format_value_other_units() -> None:
    assert format_value(None, "fen") == "未设置"
    assert format_value(True, "bool") == "是"
    assert format_value(False, "bool") == "否"
    assert format_value(6, "months") == "6个月"
    assert format_value(20, "persons") == "20人"
    assert format_value(D(2021, 12, 1), "date") == "2021-12-01"
