"""The single-case engine: the output contract, explanations, unknowns, validity and conflicts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.policy.batch_run import evaluate_population
from bangfu.policy.case import parse_case
from bangfu.policy.engine import STATUS_LABELS, PolicyConflictError, evaluate_case
from bangfu.policy.loader import load_policy
from bangfu.policy.model import FUNDS, Policy
from bangfu.synth.population import SCHEMAS

PERSON_BENEFITS = {
    "transport_cross_province",
    "transport_in_province_organized",
    "welfare_post_eligibility",
    "employment_difficulty",
    "training_living_allowance",
    "labour_export_service",
}
ORGANIZATION_BENEFITS = {
    "job_referral_subsidy",
    "employment_base_reward",
    "one_time_hiring_subsidy",
    "hiring_subsidy",
    "work_for_training_subsidy",
    "incubator_reward",
    "heritage_workshop_subsidy",
}


def example(name: str) -> dict[str, Any]:
    path = resources.files("bangfu") / "data" / "examples" / name
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def evaluate(policy: Policy, data: dict[str, Any]) -> dict[str, Any]:
    return evaluate_case(policy, parse_case(data))


def by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["id"]: b for b in result["benefits"]}


def person(date: str, **fields: Any) -> dict[str, Any]:
    body = {"categories": ["poverty_alleviated"], "hukou_region": "141123", "labor_capacity": "full"}
    body.update(fields)
    return {"date": date, "region": "141123", "person": body}


def check_contract(result: dict[str, Any], entity: str, benefit_ids: set[str]) -> None:
    assert result["entity"] == entity
    dt.date.fromisoformat(result["date"])
    assert set(result["policy"]) >= {"id", "title", "in_force", "valid_from", "valid_to"}
    assert result["policy"]["id"] == "shanxi-2021"
    assert isinstance(result["policy"]["in_force"], bool)
    assert [b["id"] for b in result["benefits"]] and {b["id"] for b in result["benefits"]} == benefit_ids
    assert len(result["benefits"]) == len(benefit_ids)
    for b in result["benefits"]:
        assert b["eligible"] in (True, False, None)
        assert b["status"] in STATUS_LABELS
        assert b["status_label"] == STATUS_LABELS[b["status"]]
        assert type(b["amount_fen"]) is int and b["amount_fen"] >= 0
        if b["status"] != "granted":
            assert b["amount_fen"] == 0
        assert b["fund"] in FUNDS and b["fund_label"] == FUNDS[b["fund"]]
        assert isinstance(b["clause"], str) and b["clause"]
        assert isinstance(b["reasons"], list) and b["reasons"]
        assert all(isinstance(r, str) and r for r in b["reasons"])
        assert isinstance(b["missing"], list)
        assert all(isinstance(m, str) for m in b["missing"])
        assert isinstance(b["conditions"], list) and isinstance(b["parameters"], list)
        assert b["priority"] is None or set(b["priority"]) == {"rank", "label", "of", "reasons"}
        assert b["repeat"] is not None and b["repeat"]["per"] and b["repeat"]["label"]
    json.dumps(result, ensure_ascii=False)  # the whole result is plain JSON


def test_person_output_contract(policy: Policy) -> None:
    result = evaluate(policy, example("01-person-cross-province.json"))
    check_contract(result, "person", PERSON_BENEFITS)
    assert result["date"] == "2024-06-30"
    assert result["region"] == "141123"
    assert result["policy"]["in_force"] is True
    assert result["policy"]["valid_from"] == "2021-07-01"
    assert result["policy"]["valid_to"] == "2025-12-31"
    benefits = by_id(result)
    assert benefits["transport_cross_province"]["status"] == "granted"
    assert benefits["transport_cross_province"]["amount_fen"] == 80000  # 950 元 capped at 800 元
    assert benefits["transport_cross_province"]["eligible"] is True
    assert benefits["training_living_allowance"]["amount_fen"] == 10 * 1500
    assert benefits["transport_in_province_organized"]["status"] == "not_eligible"


def test_organization_output_contract(policy: Policy) -> None:
    result = evaluate(policy, example("05-organization-base.json"))
    check_contract(result, "organization", ORGANIZATION_BENEFITS)
    assert result["region"] == "141123"  # an organization's region comes from its record
    benefits = by_id(result)
    assert benefits["employment_base_reward"]["status"] == "granted"
    assert benefits["employment_base_reward"]["amount_fen"] == 10000000
    # the base reward supersedes the (五) hiring subsidy of an enterprise; （九）'s is for workshops
    assert benefits["hiring_subsidy"]["status"] == "excluded"
    assert benefits["one_time_hiring_subsidy"]["status"] == "not_eligible"
    # 2021-09..2021-11 counted on 2021-11-30: 3 months × 300 元
    assert benefits["work_for_training_subsidy"]["amount_fen"] == 3 * 30000
    # kinds that do not match are not eligible
    assert benefits["incubator_reward"]["status"] == "not_eligible"


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (resources.files("bangfu") / "data" / "examples").iterdir() if p.name.endswith(".json")),
)
def test_every_example_fulfils_the_contract(policy: Policy, name: str) -> None:
    data = example(name)
    entity = "person" if "person" in data else "organization"
    result = evaluate(policy, data)
    check_contract(result, entity, PERSON_BENEFITS if entity == "person" else ORGANIZATION_BENEFITS)


def test_explanation_lists_condition_values_and_parameters(policy: Policy) -> None:
    benefit = by_id(evaluate(policy, example("01-person-cross-province.json")))["transport_cross_province"]
    conditions = {c["id"]: c for c in benefit["conditions"]}
    assert conditions["poverty_alleviated"]["result"] is True
    assert conditions["poverty_alleviated"]["values"]["person.categories"] == ["poverty_alleviated"]
    assert conditions["cross_province_work"]["result"] is True
    seen = conditions["cross_province_work"]["values"]
    assert seen["person.employment[0].work_region"] == "440305"
    assert seen["person.employment[0].start"] == "2024-03-01"
    assert seen["person.employment[0].end"] is None
    parameters = {p["key"]: p for p in benefit["parameters"]}
    cap = parameters["transport_cross_province.cap_fen"]
    assert cap["value"] == 80000
    assert cap["clause"] == "（四）"
    assert "800 元" in cap["quote"]
    assert cap["display"] == "800.00 元"
    assert cap["set_at"] == "14"
    assert any("800.00 元" in r for r in benefit["reasons"])


def test_explanation_names_the_failed_condition(policy: Policy) -> None:
    data = person(
        "2024-06-30",
        categories=["edge_of_poverty"],
        employment=[{"start": "2024-03-01", "work_region": "440305", "travel_cost_fen": 50000}],
    )
    benefit = by_id(evaluate(policy, data))["transport_cross_province"]
    assert benefit["status"] == "not_eligible" and benefit["eligible"] is False
    assert "不符合：属于脱贫人口" in benefit["reasons"]
    # 属于脱贫人口, 户籍在山西省, 在山西省外务工,
    # 未登记为丧失劳动力或无劳动力 (capacity unknown: not held against anyone)
    assert [c["result"] for c in benefit["conditions"]] == [False, True, True, True]


def test_needs_information_lists_missing_facts(policy: Policy) -> None:
    data = person(
        "2024-06-30", employment=[{"start": "2024-03-01", "organized_export": False, "travel_cost_fen": 50000}]
    )
    del data["person"]["categories"]
    benefit = by_id(evaluate(policy, data))["transport_cross_province"]
    assert benefit["status"] == "needs_information"
    assert benefit["eligible"] is None
    assert benefit["amount_fen"] == 0
    assert "person.categories" in benefit["missing"]
    assert "person.employment[0].work_region" in benefit["missing"]
    assert any("person.categories" in r for r in benefit["reasons"])


def test_needs_information_for_missing_amount_fact(policy: Policy) -> None:
    data = person("2024-06-30", employment=[{"start": "2024-03-01", "work_region": "440305"}])
    benefit = by_id(evaluate(policy, data))["transport_cross_province"]
    assert benefit["eligible"] is True
    assert benefit["status"] == "needs_information"
    assert benefit["missing"] == ["person.employment[0].travel_cost_fen"]
    assert any("金额缺少信息" in r for r in benefit["reasons"])


def test_needs_information_lists_unset_local_standard(policy: Policy) -> None:
    benefit = by_id(evaluate(policy, example("03-person-unemployed.json")))["employment_difficulty"]
    assert benefit["status"] == "needs_information"
    assert "parameter:employment_difficulty.min_unemployed_days" in benefit["missing"]
    assert any("由市级制定" in r and "141124" in r for r in benefit["reasons"])
    referral = by_id(
        evaluate(
            policy,
            {"date": "2024-06-30", "organization": {"kind": "hr_agency", "region": "141123", "placed_by_export": 12}},
        )
    )["job_referral_subsidy"]
    assert referral["eligible"] is True
    assert referral["status"] == "needs_information"
    assert referral["missing"] == ["parameter:job_referral_subsidy.per_person_fen"]


def test_not_in_force_names_the_validity_period(policy: Policy) -> None:
    result = evaluate(policy, example("04-person-after-expiry.json"))
    check_contract(result, "person", PERSON_BENEFITS)
    assert result["policy"]["in_force"] is False
    for benefit in result["benefits"]:
        assert benefit["status"] == "not_in_force"
        assert benefit["amount_fen"] == 0
        assert any("2021-07-01 至 2025-12-31" in r and "2026-03-01" in r for r in benefit["reasons"])


def test_day_before_validity_is_not_in_force(policy: Policy) -> None:
    data = person("2021-06-30", employment=[{"start": "2021-03-01", "work_region": "440305", "travel_cost_fen": 1}])
    assert {b["status"] for b in evaluate(policy, data)["benefits"]} == {"not_in_force"}
    data["date"] = "2021-07-01"
    assert by_id(evaluate(policy, data))["transport_cross_province"]["status"] == "granted"


def test_limit_blocks_a_second_payment_in_the_same_year(policy: Policy) -> None:
    data = person(
        "2024-06-30",
        employment=[{"start": "2024-03-01", "work_region": "440305", "travel_cost_fen": 1}],
        received=[{"benefit": "transport_cross_province", "date": "2024-02-01"}],
    )
    benefit = by_id(evaluate(policy, data))["transport_cross_province"]
    assert benefit["status"] == "excluded"
    assert benefit["amount_fen"] == 0
    # a receipt dated after the evaluation date does not count
    data["person"]["received"][0]["date"] = "2024-07-01"
    assert by_id(evaluate(policy, data))["transport_cross_province"]["status"] == "granted"


BOTH_TRANSPORT_SPELLS: list[dict[str, Any]] = [
    {
        "start": "2024-01-10",
        "end": "2024-03-31",
        "work_region": "440305",
        "organized_export": False,
        "travel_cost_fen": 60000,
    },
    {"start": "2024-04-10", "end": None, "work_region": "140105", "organized_export": True, "travel_cost_fen": 20000},
]


def test_declared_precedence_prefers_cross_province(policy: Policy) -> None:
    benefits = by_id(evaluate(policy, person("2024-06-30", employment=BOTH_TRANSPORT_SPELLS)))
    assert benefits["transport_cross_province"]["status"] == "granted"
    assert benefits["transport_cross_province"]["amount_fen"] == 60000
    in_province = benefits["transport_in_province_organized"]
    assert in_province["eligible"] is True
    assert in_province["status"] == "excluded"
    assert any("跨省务工一次性交通补贴" in r for r in in_province["reasons"])


@pytest.fixture
def policy_without_precedence(policy_copy: Callable[..., Path]) -> Policy:
    folder = policy_copy(
        {
            "benefits/04-labour-export.yaml": [
                ("    precedence: [transport_cross_province, transport_in_province_organized]\n", "")
            ]
        }
    )
    loaded = load_policy(folder)
    group = next(g for g in loaded.exclusions if g.id == "transport_once_a_year")
    assert group.precedence == ()
    return loaded


def test_undeclared_conflict_raises(policy_without_precedence: Policy) -> None:
    with pytest.raises(PolicyConflictError) as info:
        evaluate(policy_without_precedence, person("2024-06-30", employment=BOTH_TRANSPORT_SPELLS))
    message = str(info.value)
    assert "transport_once_a_year" in message
    assert "transport_cross_province" in message and "transport_in_province_organized" in message
    assert "precedence" in message


def test_undeclared_conflict_is_no_error_when_only_one_applies(policy_without_precedence: Policy) -> None:
    only_cross = person("2024-06-30", employment=BOTH_TRANSPORT_SPELLS[:1])
    assert by_id(evaluate(policy_without_precedence, only_cross))["transport_cross_province"]["status"] == "granted"
    # one of them already received this year: the other is excluded, not a conflict
    received = person(
        "2024-06-30",
        employment=BOTH_TRANSPORT_SPELLS,
        received=[{"benefit": "transport_cross_province", "date": "2024-02-01"}],
    )
    benefits = by_id(evaluate(policy_without_precedence, received))
    assert benefits["transport_cross_province"]["status"] == "excluded"
    assert benefits["transport_in_province_organized"]["status"] == "excluded"


def test_undeclared_conflict_raises_in_population_run(policy_without_precedence: Policy, tmp_path: Path) -> None:
    persons = [
        {
            "person_id": 1,
            "region": "141123",
            "hukou_region": "141123",
            "categories": ["poverty_alleviated"],
            "labor_capacity": "full",
        },
        {
            "person_id": 2,
            "region": "141123",
            "hukou_region": "141123",
            "categories": ["poverty_alleviated"],
            "labor_capacity": "full",
        },
    ]
    employment = [{"person_id": 1, **spell} for spell in BOTH_TRANSPORT_SPELLS] + [
        {"person_id": 2, **BOTH_TRANSPORT_SPELLS[0]}
    ]
    for row in employment:
        row["start"] = dt.date.fromisoformat(row["start"])
        row["end"] = dt.date.fromisoformat(row["end"]) if row["end"] else None
    tables = {"persons": persons, "employment": employment, "training": [], "received": []}
    for name, rows in tables.items():
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMAS[name]), tmp_path / f"{name}.parquet")
    backend = DuckDBBackend()
    try:
        with pytest.raises(PolicyConflictError, match="transport_once_a_year"):
            evaluate_population(
                policy_without_precedence, backend, tmp_path, dt.date(2024, 6, 30), entities=("person",)
            )
    finally:
        backend.close()
