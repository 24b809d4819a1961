"""The policy's own rule tests (YAML beside the policy), run as pytest cases; and the runner can fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from bangfu.policy.loader import load_bundled
from bangfu.policy.model import Policy
from bangfu.policy.testing import RuleTest, load_tests, run_test, run_tests

RULE_TESTS = list(load_tests([Path(load_bundled().tests_dir)]))


def test_the_policy_ships_rule_tests() -> None:
    assert len(RULE_TESTS) >= 50
    files = {t.file.name for t in RULE_TESTS}
    assert {"04-labour-export.yaml", "09-work-for-training.yaml", "10-entrepreneurship.yaml"} <= files
    assert len({t.id for t in RULE_TESTS}) == len(RULE_TESTS), "rule test ids must be unique"


@pytest.mark.parametrize("rule_test", RULE_TESTS, ids=[t.id for t in RULE_TESTS])
def test_rule_file_case(policy: Policy, rule_test: RuleTest) -> None:
    outcome = run_test(policy, rule_test)
    assert outcome.passed, f"{rule_test.id}:\n  " + "\n  ".join(outcome.failures)


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
