"""Local standards as data: who owns a standard, its declared range, and stored values laid over a document."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from bangfu.policy.case import parse_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.loader import PolicyError, load_policy
from bangfu.policy.local_standards import Proposal, StoredStandard, overlay, periods, refusals, settable
from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet

REFERRAL = "job_referral_subsidy.per_person_fen"
YUNCHENG, LINYI, TAIYUAN = "1408", "140821", "1401"
SET_AT = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)


def stored(
    ident: int, value: int, start: dt.date, region: str = YUNCHENG, end: dt.date | None = None, key: str = REFERRAL
) -> StoredStandard:
    return StoredStandard(
        id=ident,
        document_id="shanxi-2021",
        parameter_key=key,
        region_code=region,
        value=value,
        valid_from=start,
        valid_to=end,
        document_number=f"运人社发〔2024〕{ident}号",
        document_title="职业介绍补贴标准",
        set_by="city",
        set_at=SET_AT,
    )


def proposal(value: int = 20000, region: str = YUNCHENG, key: str = REFERRAL, **changes: object) -> Proposal:
    fields: dict[str, object] = {
        "document_id": "shanxi-2021",
        "parameter_key": key,
        "region_code": region,
        "value": value,
        "valid_from": dt.date(2024, 1, 1),
        "valid_to": None,
        "document_number": "运人社发〔2024〕12号",
        "document_title": "运城市职业介绍补贴标准",
    }
    fields.update(changes)
    return Proposal(**fields)  # type: ignore[arg-type]


def referral_case(region: str, day: str = "2024-06-30") -> dict[str, object]:
    return {
        "date": day,
        "region": region,
        "organization": {"kind": "hr_agency", "placed_by_export": 3},
    }


def referral(policies: PolicySet, region: str) -> dict[str, object]:
    result = evaluate_all(policies, parse_case(referral_case(region)))
    return next(b for b in result["benefits"] if b["id"] == "job_referral_subsidy")


def test_a_value_ends_where_the_next_begins_and_a_same_day_correction_wins() -> None:
    rows = [
        stored(1, 20000, dt.date(2024, 1, 1)),
        stored(2, 30000, dt.date(2025, 1, 1)),
        stored(3, 25000, dt.date(2025, 1, 1)),  # set later for the same day: a correction
        stored(4, 10000, dt.date(2023, 1, 1), end=dt.date(2023, 6, 30)),
    ]
    found = {p.standard.id: (p.start, p.end, p.superseded) for p in periods(rows)}
    assert found == {
        4: (dt.date(2023, 1, 1), dt.date(2023, 6, 30), False),
        1: (dt.date(2024, 1, 1), dt.date(2024, 12, 31), False),
        2: (dt.date(2025, 1, 1), dt.date(2024, 12, 31), True),
        3: (dt.date(2025, 1, 1), None, False),
    }


def test_a_city_standard_applies_to_its_counties_and_a_county_may_set_its_own_where_allowed(policy: Policy) -> None:
    bundled = PolicySet.of(policy)
    assert referral(bundled, LINYI)["status"] == "needs_information"
    city = overlay(bundled, [stored(1, 20000, dt.date(2024, 1, 1))])
    granted = referral(city, LINYI)
    assert (granted["status"], granted["amount_fen"]) == ("granted", 60000)
    assert referral(city, "140105")["status"] == "needs_information"  # 太原 set nothing
    county = overlay(bundled, [stored(1, 20000, dt.date(2024, 1, 1)), stored(2, 15000, dt.date(2024, 1, 1), LINYI)])
    assert referral(county, LINYI)["amount_fen"] == 45000
    assert referral(county, "140802")["amount_fen"] == 60000  # another county of the city keeps the city's
    before = overlay(bundled, [stored(1, 20000, dt.date(2024, 7, 1))])
    assert referral(before, LINYI)["status"] == "needs_information"  # asked before the standard began


def test_overlay_leaves_the_files_alone_and_skips_unknown_documents(policy: Policy) -> None:
    bundled = PolicySet.of(policy)
    assert overlay(bundled, []) is bundled
    other = dataclasses.replace(stored(9, 1, dt.date(2024, 1, 1)), document_id="gone-2030")
    assert overlay(bundled, [other]) is bundled
    overlay(bundled, [stored(1, 20000, dt.date(2024, 1, 1))])
    assert not policy.parameters[REFERRAL].overrides  # the loaded document is not changed


def test_who_may_set_what(policy: Policy) -> None:
    city_keys = {p.key for p in settable(policy, "city")}
    county_keys = {p.key for p in settable(policy, "county")}
    assert "incubator_reward.per_entity_fen" in city_keys - county_keys  # 具体标准由市级…制定
    assert {REFERRAL, "one_time_hiring_subsidy.per_person_fen"} <= city_keys & county_keys
    assert "welfare_post.monthly_subsidy_fen" in county_keys - city_keys
    assert "social_insurance_subsidy.monthly_fen" not in city_keys  # informational: no rule reads it
    assert refusals(policy, proposal(), YUNCHENG) == {}
    assert refusals(policy, proposal(region=LINYI), LINYI) == {}


@pytest.mark.parametrize(
    ("change", "setter", "reason"),
    [
        ({"region": LINYI}, YUNCHENG, "只能设置本地区（山西省运城市）的标准"),
        ({"region": TAIYUAN}, YUNCHENG, "不能设置山西省太原市的标准"),
        (
            {"region": LINYI, "key": "incubator_reward.per_entity_fen"},
            LINYI,
            "由市级制定，县级不能设置；本政策未允许县级另行设置",
        ),
        ({"key": "welfare_post.monthly_subsidy_fen"}, YUNCHENG, "由县级制定，市级不能设置"),
        ({"key": "social_insurance_subsidy.monthly_fen"}, YUNCHENG, "没有可由地方设置的标准"),
    ],
)
def test_a_level_that_does_not_own_the_standard_is_refused(
    policy: Policy, change: dict[str, str], setter: str, reason: str
) -> None:
    errors = refusals(policy, proposal(**change), setter)
    assert list(errors) == [""] and reason in errors[""]


def test_field_refusals_speak_of_yuan_and_name_the_field(policy: Policy) -> None:
    errors = refusals(policy, proposal(value=500000), YUNCHENG)
    assert errors["value"].startswith("5,000.00 元超出本标准允许的范围 0.00 元—1,000.00 元")
    days = refusals(policy, proposal(value=10, key="employment_difficulty.min_unemployed_days"), YUNCHENG)
    assert "10天超出本标准允许的范围 30天—730天" in days["value"]
    dated = refusals(policy, proposal(valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2025, 1, 1)), YUNCHENG)
    assert "执行期内（2021-07-01—2025-12-31）" in dated["valid_from"]
    assert dated["valid_to"] == "截止日期不能早于生效日期"
    blank = refusals(policy, proposal(document_number=" ", document_title=""), YUNCHENG)
    assert set(blank) == {"document_number", "document_title"}


def test_ranges_are_declared_for_every_settable_standard_with_a_reason(policy: Policy) -> None:
    for level in ("city", "county"):
        for parameter in settable(policy, level):
            assert parameter.range is not None and parameter.range.reason, parameter.key


def test_a_file_value_outside_its_range_or_a_bad_range_is_refused(policy_copy: Callable[..., Path]) -> None:
    file = "parameters/04-labour-export.yaml"
    with pytest.raises(
        PolicyError, match=r"per_person_fen\.regions\.1408: 值 2,000.00 元超出声明的取值范围 0.00 元—1,000.00 元"
    ):
        load_policy(
            policy_copy(
                {
                    file: [
                        (
                            "  values: []\n",
                            "  values: []\n  regions:\n    1408:\n      - {from: 2024-01-01, value: 200000}\n",
                        )
                    ]
                }
            )
        )
    with pytest.raises(PolicyError, match="min 与 max 须为整数且 min 不大于 max"):
        load_policy(policy_copy({file: [("    min: 0\n    max: 100000", "    min: 100000\n    max: 0")]}))
    with pytest.raises(PolicyError, match="只有市级制定的标准"):
        load_policy(
            policy_copy(
                {
                    "parameters/12-welfare-posts.yaml": [
                        ("  set_by: county\n", "  set_by: county\n  county_may_override: true\n")
                    ]
                }
            )
        )
