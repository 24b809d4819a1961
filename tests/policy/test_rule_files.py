"""The policy's own rule tests (YAML beside the policy), run as pytest cases; and the runner can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from bangfu.policy.loader import available_policies, load_bundled
from bangfu.policy.model import Policy
from bangfu.policy.testing import RuleTest, load_tests, run_test, run_tests

RULE_TESTS = list(load_tests([Path(load_bundled().tests_dir)]))
# Every bundled document's own tests, by document: (document id, test)
ALL_RULE_TESTS = [
    (policy_id, test)
    for policy_id in available_policies()
    for test in load_tests([Path(load_bundled(policy_id).tests_dir)])
]


def test_the_policy_ships_rule_tests() -> None:
    assert len(RULE_TESTS) >= 50
    files = {t.file.name for t in RULE_TESTS}
    assert {"04-labour-export.yaml", "09-work-for-training.yaml", "10-entrepreneurship.yaml"} <= files
    assert len({t.id for t in RULE_TESTS}) == len(RULE_TESTS), "rule test ids must be unique"


def test_every_bundled_document_ships_rule_tests() -> None:
    counts = {policy_id: sum(1 for p, _ in ALL_RULE_TESTS if p == policy_id) for policy_id in available_policies()}
    assert counts["linyi-2024"] >= 20 and counts["shanxi-2026"] >= 10, counts
    assert all(counts.values()), counts


@pytest.mark.parametrize(("policy_id", "rule_test"), ALL_RULE_TESTS, ids=[f"{p}/{t.id}" for p, t in ALL_RULE_TESTS])
def test_rule_file_case(policy_id: str, rule_test: RuleTest) -> None:
    outcome = run_test(load_bundled(policy_id), rule_test)
    assert outcome.passed, f"{policy_id}/{rule_test.id}:\n  " + "\n  ".join(outcome.failures)


WRONG = """\
- name: 跨省务工，故意写错的期望金额
  case:
    date: 2024-06-30
    region: "141123"
    person: {categories: [poverty_alleviated], hukou_region: "141123",
             employment: [{start: 2024-03-01, end: null, work_region: "440305", organized_export: false,
                           travel_cost_fen: 95000}]}
  expect:
    transport_cross_province: {status: not_eligible, amount_fen: 12345, missing: [person.birth_date],
                               reasons_contain: [不存在的理由]}
    no_such_benefit: {status: granted}
- name: 正确的期望
  case:
    date: 2024-06-30
    region: "141123"
    person: {categories: [poverty_alleviated], hukou_region: "141123",
             employment: [{start: 2024-03-01, end: null, work_region: "440305", organized_export: false,
                           travel_cost_fen: 95000}]}
  expect:
    transport_cross_province: {status: granted, eligible: true, amount_fen: 80000}
- name: 无效案例
  case:
    date: 2024-13-45x
    person: {}
  expect:
    transport_cross_province: {status: granted}
"""


def test_wrong_expectations_are_reported(policy: Policy, tmp_path: Path) -> None:
    file = tmp_path / "wrong.yaml"
    file.write_text(WRONG, encoding="utf-8")
    outcomes = run_tests(policy, [file])
    assert [o.passed for o in outcomes] == [False, True, False]
    failures = "\n".join(outcomes[0].failures)
    assert "transport_cross_province.status" in failures
    assert "transport_cross_province.amount_fen" in failures and "12345" in failures
    assert "transport_cross_province.missing" in failures and "person.birth_date" in failures
    assert "transport_cross_province.reasons" in failures and "不存在的理由" in failures
    assert "no_such_benefit" in failures
    assert len(outcomes[0].failures) == 5
    assert outcomes[0].test.id == "wrong.yaml#1 跨省务工，故意写错的期望金额"
    assert any("案例无效" in f and "date" in f for f in outcomes[2].failures)


def test_unknown_expectation_key_is_rejected(tmp_path: Path) -> None:
    file = tmp_path / "typo.yaml"
    file.write_text(
        "- name: x\n  case: {date: 2024-06-30, person: {}}\n  expect:\n    transport_cross_province: {amount: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="amount"):
        list(load_tests([file]))


def test_a_wrong_decision_day_is_reported(tmp_path: Path) -> None:
    file = tmp_path / "decided.yaml"
    file.write_text(
        "- name: 2024 年的省外务工，2026 年查询\n"
        "  case: {date: 2026-06-30, region: '140821', person: {categories: [poverty_alleviated],\n"
        "         hukou_region: '140821', employment: [{start: 2024-03-01, end: 2024-10-31, work_region: '110105'}]}}\n"
        "  expect:\n    linyi_transport_subsidy: {status: granted, decided_on: 2026-06-30}\n",
        encoding="utf-8",
    )
    [outcome] = run_tests(load_bundled("linyi-2024"), [file])
    assert outcome.failures == (
        "linyi_transport_subsidy.decided_on: 期望 '2026-06-30'，实为 '2024-12-31'（理由：['符合全部条件', "
        "'补贴金额（按务工地：省外 1500 元、省内市外 600 元、市内县外 300 元，每人每年定额）：1,500.00 元']）",
    )
