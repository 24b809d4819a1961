"""Repeat keys: per what a benefit may be paid again, and the key a payment is unique under (ADR 0015)."""

from __future__ import annotations

import datetime as dt

import pytest

from bangfu.policy.case import parse_case
from bangfu.policy.engine import evaluate_case
from bangfu.policy.model import Policy
from bangfu.policy.repeat import REPEAT_KINDS, repeat_key


def test_key_of_a_course_day() -> None:
    key = repeat_key(
        "shanxi-2021", "training_living_allowance", "course_day", "1001", {"course": "T-7", "day": dt.date(2024, 6, 28)}
    )
    assert key == ("shanxi-2021", "training_living_allowance", "1001", "T-7", "2024-06-28")


def test_key_of_a_trainee_month_ignores_the_day() -> None:
    first = repeat_key(
        "shanxi-2021",
        "work_for_training_subsidy",
        "trainee_month",
        "55",
        {"trainee": "9", "month": dt.date(2021, 9, 1)},
    )
    later = repeat_key(
        "shanxi-2021",
        "work_for_training_subsidy",
        "trainee_month",
        "55",
        {"trainee": "9", "month": dt.date(2021, 9, 30)},
    )
    assert first == later == ("shanxi-2021", "work_for_training_subsidy", "55", "9", "2021-09")


def test_key_per_person_and_year() -> None:
    assert repeat_key("shanxi-2021", "transport_cross_province", "person_year", "7", {"year": 2024}) == (
        "shanxi-2021",
        "transport_cross_province",
        "7",
        "2024",
    )
    assert repeat_key("shanxi-2021", "employment_base_reward", "organization", "3") == (
        "shanxi-2021",
        "employment_base_reward",
        "3",
    )


def test_a_unit_without_its_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="hired"):
        repeat_key("shanxi-2021", "one_time_hiring_subsidy", "hire", "3", {})
    with pytest.raises(ValueError, match="未知"):
        repeat_key("shanxi-2021", "one_time_hiring_subsidy", "per_fortnight", "3", {})
    with pytest.raises(ValueError, match="不涉及发放"):
        repeat_key("shanxi-2021", "welfare_post_eligibility", "not_paid", "3")


def test_every_kind_is_described() -> None:
    for per, kind in REPEAT_KINDS.items():
        assert kind.label, per
        assert kind.per_unit == bool(kind.unit_label), per


def test_result_names_the_repeat_key(policy: Policy) -> None:
    case = {
        "date": "2024-06-30",
        "region": "141123",
        "person": {
            "categories": ["poverty_alleviated"],
            "hukou_region": "141123",
            "labor_capacity": "ordinary",
            "training": [{"start": "2024-06-28", "days": 10}],
        },
    }
    benefits = {b["id"]: b for b in evaluate_case(policy, parse_case(case))["benefits"]}
    assert benefits["training_living_allowance"]["repeat"] == {"per": "course_day", "label": "每人每个培训日一次"}
    assert benefits["transport_cross_province"]["repeat"]["per"] == "person_year"
    assert benefits["welfare_post_eligibility"]["priority"]["rank"] == 2
    assert benefits["welfare_post_eligibility"]["priority"]["reasons"] == [
        "不属于：脱贫人口、易地搬迁群众中的弱劳力、半劳力",
        "属于：脱贫人口、易地搬迁群众",
    ]
    assert benefits["transport_cross_province"]["priority"] is None


def test_received_units_out_of_range_are_refused(policy: Policy) -> None:
    from bangfu.policy.case import CaseError

    case = {
        "date": "2024-06-30",
        "person": {
            "categories": ["poverty_alleviated"],
            "received": [{"benefit": "x", "date": "2024-01-01", "units": -1}],
        },
    }
    with pytest.raises(CaseError, match=r"person\.received\[0\]\.units"):
        parse_case(case)
