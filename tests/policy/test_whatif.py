"""What-if runs: parameter overrides as data, and the cost difference they cause."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from population_support import single_case_decisions

from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.policy.batch_run import PopulationRun, evaluate_population
from bangfu.policy.loader import PolicyError
from bangfu.policy.model import Policy
from bangfu.policy.whatif import WHAT_IF_DOCUMENT, apply_overrides, cost_difference, load_overrides

DAY = dt.date(2024, 6, 30)
RAISE_CAP = [{"parameter": "transport_cross_province.cap_fen", "from": "2024-01-01", "value": 100000}]


def run(policy: Policy, data: Path) -> PopulationRun:
    backend = DuckDBBackend(threads=2)
    try:
        return evaluate_population(policy, backend, data, DAY)
    finally:
        backend.close()


def test_apply_overrides_changes_only_the_copy(policy: Policy) -> None:
    scenario = apply_overrides(policy, RAISE_CAP)
    cap = scenario.parameters["transport_cross_province.cap_fen"]
    assert cap.resolve(dt.date(2023, 12, 31), "141123").value == 80000
    assert cap.resolve(dt.date(2024, 1, 1), "141123").value == 100000
    assert cap.resolve(DAY, "141123").citation is not None
    assert cap.resolve(DAY, "141123").citation.document == WHAT_IF_DOCUMENT
    assert policy.parameters["transport_cross_province.cap_fen"].resolve(DAY, None).value == 80000
    assert scenario.benefits is policy.benefits


def test_cap_increase_costs_exactly_the_single_case_differences(policy: Policy, synthetic_population: Path) -> None:
    scenario_policy = apply_overrides(policy, RAISE_CAP)
    baseline, scenario = run(policy, synthetic_population), run(scenario_policy, synthetic_population)
    by_fund = {row["key"]: row for row in cost_difference(baseline.by_fund(), scenario.by_fund())}
    revitalization = by_fund["revitalization"]["difference_fen"]
    assert revitalization > 0
    # nothing else is paid from another fund because of this change
    assert all(row["difference_fen"] == 0 for key, row in by_fund.items() if key != "revitalization")

    before = single_case_decisions(policy, synthetic_population, "person", DAY)
    after = single_case_decisions(scenario_policy, synthetic_population, "person", DAY)
    revitalization_benefits = {bid for bid, b in policy.benefits.items() if b.fund == "revitalization"}
    expected = sum(after[pid][bid][2] - before[pid][bid][2] for pid in before for bid in revitalization_benefits)
    assert revitalization == expected
    # each person gains at most the 200 元 by which the cap rose
    gains = [after[pid]["transport_cross_province"][2] - before[pid]["transport_cross_province"][2] for pid in before]
    assert max(gains) <= 20000 and min(gains) == 0
    assert sum(1 for g in gains if g > 0) * 20000 >= revitalization


def test_cap_increase_before_its_start_changes_nothing(policy: Policy, synthetic_population: Path) -> None:
    late = apply_overrides(policy, [{**RAISE_CAP[0], "from": "2025-01-01"}])
    assert run(late, synthetic_population).by_fund() == run(policy, synthetic_population).by_fund()


def test_cost_difference_rows() -> None:
    rows = cost_difference({"a": 10, "b": 5}, {"b": 8, "c": 1})
    assert rows == [
        {"key": "a", "baseline_fen": 10, "scenario_fen": 0, "difference_fen": -10},
        {"key": "b", "baseline_fen": 5, "scenario_fen": 8, "difference_fen": 3},
        {"key": "c", "baseline_fen": 0, "scenario_fen": 1, "difference_fen": 1},
    ]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"parameter": "transport_cross_province.cap_yuan", "from": "2024-01-01", "value": 1}, "cap_yuan"),
        ({"parameter": "transport_cross_province.cap_fen", "from": "2024-01-01", "value": 1000.5}, "[0].value"),
        ({"parameter": "transport_cross_province.cap_fen", "from": "2024-01-01", "value": "1000"}, "[0].value"),
        ({"parameter": "work_for_training.window_end", "from": "2024-01-01", "value": "2024-02-30"}, "[0].value"),
        ({"parameter": "transport_cross_province.cap_fen", "from": "2024-01-01", "valu": 1}, "valu"),
        ({"parameter": "transport_cross_province.cap_fen", "from": "2024-13-01", "value": 1}, "[0].from"),
        (
            {"parameter": "transport_cross_province.cap_fen", "from": "2024-01-01", "value": 1, "region": "14x"},
            "[0].region",
        ),
        (
            {"parameter": "transport_cross_province.cap_fen", "from": "2024-06-01", "to": "2024-01-01", "value": 1},
            "假设[0]",
        ),
    ],
)
def test_bad_override_names_the_key(policy: Policy, override: dict[str, Any], expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        apply_overrides(policy, [override])
    assert expected in str(info.value)


def test_unknown_parameter_message(policy: Policy) -> None:
    with pytest.raises(PolicyError) as info:
        apply_overrides(policy, [RAISE_CAP[0], {**RAISE_CAP[0], "parameter": "no.such_key"}], source="s.yaml")
    message = str(info.value)
    assert "s.yaml[1].parameter" in message
    assert "no.such_key" in message


def test_load_overrides_file(tmp_path: Path, policy: Policy) -> None:
    file = tmp_path / "overrides.yaml"
    file.write_text(
        "overrides:\n  - {parameter: transport_cross_province.cap_fen, from: 2024-01-01, value: 100000}\n",
        encoding="utf-8",
    )
    overrides = load_overrides(file)
    assert len(overrides) == 1
    scenario = apply_overrides(policy, overrides, str(file))
    assert scenario.parameters["transport_cross_province.cap_fen"].resolve(DAY, None).value == 100000
    empty = tmp_path / "empty.yaml"
    empty.write_text("[]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"empty\.yaml"):
        load_overrides(empty)
    with pytest.raises(PolicyError, match=r"missing\.yaml"):
        load_overrides(tmp_path / "missing.yaml")
