"""Several documents answer one case (``evaluate_all``): the county programme beside the province's,
the 2026 continuation after the 2021 text, and one transport subsidy per person and year across them."""

from __future__ import annotations

from typing import Any

import pytest

from bangfu.policy.case import CaseError, parse_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.policy_set import PolicySet

BEIJING, YUNCHENG_YANHU, LINYI = "110105", "140802", "140821"


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return PolicySet.bundled()


def case(day: str, region: str, *spells: tuple[str, str | None, str], **person: Any) -> dict[str, Any]:
    """A poverty-alleviated person of ``region`` (hukou there too) with employment spells (start, end, where)."""
    employment = [
        {"start": start, "end": end, "work_region": where, "organized_export": False, "travel_cost_fen": 95_000}
        for start, end, where in spells
    ]
    facts = {"categories": ["poverty_alleviated"], "hukou_region": region, "labor_capacity": "ordinary"}
    return {"date": day, "region": region, "person": {**facts, "employment": employment, **person}}


def benefits(answer: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(b["document"], b["id"]): b for b in answer["benefits"]}


def test_a_linyi_worker_in_beijing_gets_the_county_subsidy_and_not_the_provinces(policies: PolicySet) -> None:
    answer = evaluate_all(policies, parse_case(case("2024-06-30", LINYI, ("2024-03-01", None, BEIJING))))
    assert [d["id"] for d in answer["documents"]] == ["shanxi-2021", "linyi-2024"]
    got = benefits(answer)
    county = got[("linyi-2024", "linyi_transport_subsidy")]
    assert (county["status"], county["amount_fen"]) == ("granted", 150_000)
    province = got[("shanxi-2021", "transport_cross_province")]
    assert (province["status"], province["amount_fen"], province["eligible"]) == ("excluded", 0, True)
    [reason] = province["reasons"]
    assert "临猗县外出务工交通补贴" in reason and "每人每年只享受一项外出务工交通补贴，本县补贴优先" in reason
    assert "linyi-2024 申请办法（摘要）" in reason
    # the other subsidies of the 2021 text are untouched by the county's exclusion
    assert got[("shanxi-2021", "labour_export_service")]["status"] == "granted"


def test_a_worker_elsewhere_in_yuncheng_gets_only_the_province_subsidy(policies: PolicySet) -> None:
    answer = evaluate_all(policies, parse_case(case("2024-06-30", YUNCHENG_YANHU, ("2024-03-01", None, BEIJING))))
    assert [d["id"] for d in answer["documents"]] == ["shanxi-2021"]
    assert not any(b["document"] == "linyi-2024" for b in answer["benefits"])
    province = benefits(answer)[("shanxi-2021", "transport_cross_province")]
    assert (province["status"], province["amount_fen"]) == ("granted", 80_000)


def test_a_province_receipt_of_the_year_blocks_the_county_subsidy(policies: PolicySet) -> None:
    receipt = [{"benefit": "transport_cross_province", "date": "2024-04-01"}]
    answer = evaluate_all(
        policies, parse_case(case("2024-06-30", LINYI, ("2024-03-01", None, BEIJING), received=receipt))
    )
    county = benefits(answer)[("linyi-2024", "linyi_transport_subsidy")]
    assert county["status"] == "excluded"
    assert county["reasons"][0].startswith("本年度已享受“跨省务工一次性交通补贴”")
    last_year = [{"benefit": "transport_cross_province", "date": "2023-04-01"}]
    answer = evaluate_all(
        policies, parse_case(case("2024-06-30", LINYI, ("2024-03-01", None, BEIJING), received=last_year))
    )
    assert benefits(answer)[("linyi-2024", "linyi_transport_subsidy")]["status"] == "granted"


def test_asked_in_2026_each_year_is_decided_by_its_own_document(policies: PolicySet) -> None:
    """A spell in Beijing since March 2024: 2024 by the county (1,500), 2025 by the 2021 text (800), 2026
    by the continuation (800, 暂定); different years, so the county's exclusion takes nothing away."""
    answer = evaluate_all(policies, parse_case(case("2026-06-30", LINYI, ("2024-03-01", None, BEIJING))))
    decided = {d["id"]: d["decided_on"] for d in answer["documents"]}
    assert decided == {"shanxi-2021": "2025-12-31", "shanxi-2026": "2026-06-30", "linyi-2024": "2024-12-31"}
    assert answer["in_force"] is True and answer["last_in_force"] is None
    got = benefits(answer)
    county = got[("linyi-2024", "linyi_transport_subsidy")]
    assert (county["status"], county["amount_fen"], county["event"]["date"]) == ("granted", 150_000, "2024-03-01")
    old = got[("shanxi-2021", "transport_cross_province")]
    assert (old["status"], old["amount_fen"], old["event"]["date"]) == ("granted", 80_000, "2025-01-01")
    new = got[("shanxi-2026", "transport_cross_province")]
    assert (new["status"], new["amount_fen"], new["event"]["date"]) == ("granted", 80_000, "2026-01-01")
    assert any("暂定标准" in reason for reason in new["reasons"])
    assert all(p["placeholder"] for p in new["parameters"])
    continuation = next(d for d in answer["documents"] if d["id"] == "shanxi-2026")
    assert continuation["placeholder"] and "暂定" in continuation["placeholder"]
    # applications of the expired 2021 text are no longer decided
    assert got[("shanxi-2021", "labour_export_service")]["status"] == "not_in_force"


def test_a_2026_trip_elsewhere_is_answered_by_the_continuation_alone(policies: PolicySet) -> None:
    answer = evaluate_all(policies, parse_case(case("2026-06-30", YUNCHENG_YANHU, ("2026-03-01", None, BEIJING))))
    assert [d["id"] for d in answer["documents"]] == ["shanxi-2026"]
    assert {b["id"] for b in answer["benefits"]} == {"transport_cross_province", "transport_in_province_organized"}


def test_pinned_documents_answer_alone(policies: PolicySet) -> None:
    spells = ("2024-03-01", None, BEIJING)
    province_only = evaluate_all(
        policies, parse_case({**case("2024-06-30", LINYI, spells), "documents": ["shanxi-2021"]})
    )
    assert [d["id"] for d in province_only["documents"]] == ["shanxi-2021"]
    # without the county programme in the answer, nothing excludes the province's subsidy
    assert benefits(province_only)[("shanxi-2021", "transport_cross_province")]["status"] == "granted"
    county_only = evaluate_all(policies, parse_case({**case("2024-06-30", LINYI, spells), "documents": ["linyi-2024"]}))
    assert [b["id"] for b in county_only["benefits"]] == ["linyi_transport_subsidy"]
    with pytest.raises(CaseError, match="没有编号为 linyi-2030 的政策"):
        evaluate_all(policies, parse_case({**case("2024-06-30", LINYI, spells), "documents": ["linyi-2030"]}))


def test_a_narrowed_set_applies_the_exclusion_among_the_documents_it_holds() -> None:
    """Activated documents only (``PolicySet.only``): the group still binds the members present."""
    two = PolicySet.bundled().only(["shanxi-2021", "linyi-2024"])
    answer = evaluate_all(two, parse_case(case("2024-06-30", LINYI, ("2024-03-01", None, BEIJING))))
    assert benefits(answer)[("shanxi-2021", "transport_cross_province")]["status"] == "excluded"
