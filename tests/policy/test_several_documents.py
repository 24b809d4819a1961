"""Several documents at once (ADR 0020): levels and regions, event dates, look-back, cross-document exclusions.

The documents are copies of the bundled 2021 folder with one edit each (``policy_copy``), so each test
changes one thing a policy officer would change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bangfu.policy.case import CaseError, parse_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.loader import PolicyError, load_bundled, load_policy
from bangfu.policy.policy_set import PolicySet

META = "policy.yaml"
ID_LINE = "id: shanxi-2021"
VALID_FROM = "  from: 2021-07-01"
VALID_TO = "  to: 2025-12-31"
BENEFITS_04 = "benefits/04-labour-export.yaml"
CROSS_PROVINCE_TRIP = {"start": "2025-03-01", "end": "2025-10-31", "work_region": "110105", "travel_cost_fen": 90000}


def person(day: str, region: str = "140821", **facts: Any) -> dict[str, Any]:
    body = {"categories": ["poverty_alleviated"], "hukou_region": region, "labor_capacity": "ordinary", **facts}
    return {"date": day, "region": region, "person": body}


def by_key(answer: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(b["document"], b["id"]): b for b in answer["benefits"]}


@pytest.fixture
def county(policy_copy: Callable[..., Path]) -> Callable[..., Path]:
    """A county document of 140821 (the 2021 rules under another id), optionally with more edits to policy.yaml."""

    def make(document_id: str = "county-x", extra: str = "", benefits: list[tuple[str, str]] | None = None) -> Path:
        edits = {META: [(ID_LINE, f"id: {document_id}\nlevel: county\nregion: '140821'{extra}")]}
        if benefits:
            edits[BENEFITS_04] = benefits
        return policy_copy(edits)

    return make


def test_a_document_declares_its_level_and_region(county: Callable[..., Path]) -> None:
    document = load_policy(county())
    assert (document.level, document.region) == ("county", "140821")
    assert document.covers("140821") and not document.covers("140802") and not document.covers(None)
    bundled = load_bundled()
    assert (bundled.level, bundled.region) == ("province", "14")
    assert bundled.covers(None) and bundled.covers("140802")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\nlevel: town", "level: 应为 province、city、county 之一"),
        ("\nregion: '1408'", "县级文件的地区代码应为 6 位"),
        ("\nregion: '110105'", "应为山西省的行政区划代码"),
    ],
)
def test_a_bad_level_or_region_names_the_file_and_key(
    policy_copy: Callable[..., Path], extra: str, message: str
) -> None:
    level = "" if "level" in extra else "\nlevel: county"
    region = "" if "region" in extra else "\nregion: '140821'"
    folder = policy_copy({META: [(ID_LINE, f"id: county-x{level}{region}{extra}")]})
    with pytest.raises(PolicyError, match=message) as caught:
        load_policy(folder)
    assert "policy.yaml" in str(caught.value)


def test_an_expired_document_still_decides_the_events_of_its_period() -> None:
    answer = evaluate_all(
        PolicySet.bundled("shanxi-2021"), parse_case(person("2026-12-01", employment=[CROSS_PROVINCE_TRIP]))
    )
    trip = by_key(answer)[("shanxi-2021", "transport_cross_province")]
    assert trip["status"] == "granted" and trip["amount_fen"] == 80000
    assert trip["decided_on"] == "2025-12-31"
    assert trip["event"] == {"label": "当年省外务工的开始日期", "date": "2025-03-01"}
    # an application made after the end is decided by no document
    post = by_key(answer)[("shanxi-2021", "welfare_post_eligibility")]
    assert post["status"] == "not_in_force" and "2026-12-01 不在政策执行期" in post["reasons"][0]
    assert answer["in_force"] is False
    assert answer["documents"][0]["decided_on"] == "2025-12-31"
    assert answer["last_in_force"]["id"] == "shanxi-2021"


def test_a_trip_of_the_new_year_is_not_decided_by_the_expired_document() -> None:
    trip_2026 = {**CROSS_PROVINCE_TRIP, "start": "2026-02-01", "end": None}
    answer = evaluate_all(PolicySet.bundled("shanxi-2021"), parse_case(person("2026-06-30", employment=[trip_2026])))
    assert {b["status"] for b in answer["benefits"]} == {"not_in_force"}
    assert answer["last_in_force"] == {"id": "shanxi-2021", "title": load_bundled().title, "valid_to": "2025-12-31"}


def test_a_county_document_answers_only_in_its_county(county: Callable[..., Path]) -> None:
    policies = PolicySet.of(load_bundled(), load_policy(county()))
    inside = evaluate_all(
        policies,
        parse_case(person("2024-06-30", employment=[{**CROSS_PROVINCE_TRIP, "start": "2024-03-01", "end": None}])),
    )
    assert [d["id"] for d in inside["documents"]] == ["shanxi-2021", "county-x"]
    assert {b["document"] for b in inside["benefits"]} == {"shanxi-2021", "county-x"}
    outside = evaluate_all(policies, parse_case(person("2024-06-30", region="140802")))
    assert [d["id"] for d in outside["documents"]] == ["shanxi-2021"]


def test_a_case_may_pin_its_documents(county: Callable[..., Path]) -> None:
    policies = PolicySet.of(load_bundled(), load_policy(county()))
    pinned = evaluate_all(policies, parse_case({**person("2024-06-30"), "documents": ["county-x"]}))
    assert {b["document"] for b in pinned["benefits"]} == {"county-x"}
    with pytest.raises(CaseError, match="没有编号为 nowhere 的政策") as caught:
        evaluate_all(policies, parse_case({**person("2024-06-30"), "documents": ["nowhere"]}))
    assert caught.value.path == "documents"
    with pytest.raises(CaseError, match="政策编号的非空数组"):
        parse_case({**person("2024-06-30"), "documents": "county-x"})


CROSS = """
cross_exclusions:
  - id: one_transport_subsidy
    members: [county-x:transport_cross_province, shanxi-2021:transport_cross_province]
    scope: calendar_year
    reference: {clause: 第一条, quote: 同一年度只享受一项交通补贴}
    reason: 同一年度只享受一项务工交通补贴
"""


def test_a_cross_document_exclusion_keeps_the_member_named_first(county: Callable[..., Path]) -> None:
    folder = county()
    (folder / BENEFITS_04).write_text((folder / BENEFITS_04).read_text(encoding="utf-8") + CROSS, encoding="utf-8")
    policies = PolicySet.of(load_bundled(), load_policy(folder))
    trip = {**CROSS_PROVINCE_TRIP, "start": "2024-03-01", "end": None}
    answer = by_key(evaluate_all(policies, parse_case(person("2024-06-30", employment=[trip]))))
    assert answer[("county-x", "transport_cross_province")]["status"] == "granted"
    province = answer[("shanxi-2021", "transport_cross_province")]
    assert (province["status"], province["amount_fen"]) == ("excluded", 0)
    assert "同一年度只享受一项务工交通补贴" in province["reasons"][0]
    # a receipt of the county's subsidy this year blocks the province's too (and the county's own limit)
    received = [{"benefit": "transport_cross_province", "date": "2024-04-01"}]
    paid = by_key(evaluate_all(policies, parse_case(person("2024-06-30", employment=[trip], received=received))))
    assert {paid[k]["status"] for k in paid if k[1] == "transport_cross_province"} == {"excluded"}


def test_a_cross_document_exclusion_naming_a_missing_member_is_refused(county: Callable[..., Path]) -> None:
    folder = county()
    broken = CROSS.replace("shanxi-2021:transport_cross_province", "shanxi-2021:no_such_benefit")
    (folder / BENEFITS_04).write_text((folder / BENEFITS_04).read_text(encoding="utf-8") + broken, encoding="utf-8")
    with pytest.raises(PolicyError, match="政策 shanxi-2021 没有项目 no_such_benefit") as caught:
        PolicySet.of(load_bundled(), load_policy(folder))
    assert "04-labour-export.yaml: cross_exclusions[0].members" in str(caught.value)
    other = CROSS.replace("shanxi-2021:", "shanxi-2099:")
    (folder / BENEFITS_04).write_text(
        (folder / BENEFITS_04).read_text(encoding="utf-8").replace(broken, other), encoding="utf-8"
    )
    with pytest.raises(PolicyError, match="没有编号为 shanxi-2099 的政策"):
        PolicySet.of(load_bundled(), load_policy(folder))


def test_an_event_before_the_document_began_is_left_to_the_document_then(county: Callable[..., Path]) -> None:
    # the county's event is the trip's own first day, not clipped to the document's start
    folder = county(
        benefits=[("max(e.start, year_start, valid_from) for e in employment", "e.start for e in employment")]
    )
    text = (folder / META).read_text(encoding="utf-8").replace(VALID_FROM, "  from: 2024-05-01", 1)
    (folder / META).write_text(text, encoding="utf-8")
    document = load_policy(folder)
    trip = {**CROSS_PROVINCE_TRIP, "start": "2024-03-01", "end": None}
    answer = by_key(
        evaluate_all(PolicySet.of(load_bundled(), document), parse_case(person("2024-06-30", employment=[trip])))
    )
    early = answer[("county-x", "transport_cross_province")]
    assert early["status"] == "not_in_force"
    assert "2024-03-01 早于本政策施行日期 2024-05-01" in early["reasons"][0]
    assert answer[("shanxi-2021", "transport_cross_province")]["status"] == "granted"
