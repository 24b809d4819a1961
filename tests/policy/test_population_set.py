"""A population over several documents (province, city, county) gives, row by row, what ``evaluate_all`` gives.

Three documents: the province's 2021 one, a city's copy (1411, 2024–2026) and a county's transport-only
copy (141123, 2022–2024), with two cross-document exclusions (one cross-province subsidy a year, county
first; one organized in-province subsidy ever, city first). Dates when only the province's is in force,
when all three are, after the county's expiry, and after the province's.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from population_support import (
    Decisions,
    boundary_person,
    differences,
    population_tables,
    set_parquet_decisions,
    set_single_case_decisions,
    write_tables,
)
from test_population_equivalence import organization_row, person_row

from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.policy.batch_run import PopulationRun, evaluate_population
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.whatif import apply_overrides
from document_copies import three_documents

D = dt.date
DATES = [D(2021, 11, 30), D(2024, 6, 30), D(2025, 6, 30), D(2026, 1, 1)]
ENTITIES = ("person", "organization")


def make_set(root: Path) -> PolicySet:
    policies = PolicySet.bundled("shanxi-2021")
    for folder in three_documents(root):
        policies = policies.with_added(folder)
    return policies


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    return make_set(tmp_path_factory.mktemp("documents"))


def run_set(policies: PolicySet, data: Path, day: dt.date, out: Path) -> tuple[PopulationRun, dict[str, Decisions]]:
    backend = DuckDBBackend(threads=2)
    try:
        run = evaluate_population(policies, backend, data, day, out_dir=out)
    finally:
        backend.close()
    rows = {
        r.entity: set_parquet_decisions(out / f"{r.entity}_results.parquet", r.entity, r.query.benefit_ids)
        for r in run.runs
    }
    return run, rows


def assert_set_equivalent(policies: PolicySet, data: Path, day: dt.date, out: Path) -> dict[str, Decisions]:
    _, population = run_set(policies, data, day, out)
    for entity_name in ENTITIES:
        expected = set_single_case_decisions(policies, data, entity_name, day)
        problems = differences(expected, population[entity_name])
        assert not problems, f"{entity_name} on {day}:\n" + "\n".join(problems)
    return population


@pytest.fixture(scope="module")
def set_results(
    policies: PolicySet, synthetic_population: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[dt.date, tuple[PopulationRun, dict[str, Decisions]]]:
    out = tmp_path_factory.mktemp("set_results")
    return {day: run_set(policies, synthetic_population, day, out / day.isoformat()) for day in DATES}


@pytest.mark.parametrize("day", DATES, ids=[d.isoformat() for d in DATES])
def test_every_document_and_benefit_matches_evaluate_all(
    policies: PolicySet,
    synthetic_population: Path,
    set_results: dict[dt.date, tuple[PopulationRun, dict[str, Decisions]]],
    day: dt.date,
) -> None:
    run, population = set_results[day]
    for entity_name in ENTITIES:
        expected = set_single_case_decisions(policies, synthetic_population, entity_name, day)
        problems = differences(expected, population[entity_name])
        assert not problems, f"{entity_name} on {day}:\n" + "\n".join(problems)
    persons = next(r for r in run.runs if r.entity == "person")
    # the county's document answers its own county only, the city's its city, the province's everyone
    assert persons.covered("shanxi-2021") == persons.entities() == 3000
    assert 0 < persons.covered("test-county") < persons.covered("test-city") < 3000


def test_results_are_keyed_by_document_and_benefit(
    set_results: dict[dt.date, tuple[PopulationRun, dict[str, Decisions]]],
) -> None:
    run, _ = set_results[D(2024, 6, 30)]
    keys = {k for r in run.runs for k in r.query.benefit_ids}
    assert {"shanxi-2021/transport_cross_province", "test-county/transport_cross_province"} <= keys
    assert "test-county/employment_base_reward" not in keys  # the county's copy keeps the transport subsidies
    assert "test-city/employment_base_reward" in keys
    by_benefit = run.by_benefit()
    county = sum(t["amount"] for (document, _), t in by_benefit.items() if document == "test-county")
    assert county == sum(run.by_region("test-county").values()) == sum(run.by_fund("test-county").values()) > 0
    assert {r for r, amount in run.by_region("test-county").items() if amount} == {"141123"}
    assert sum(run.by_fund().values()) == sum(run.by_region().values())
    # organizations: the county's transport-only copy has nothing for them
    organizations = next(r for r in run.runs if r.entity == "organization")
    assert "test-county" not in organizations.query.documents


def test_cross_document_exclusions_apply_in_the_declared_order(
    set_results: dict[dt.date, tuple[PopulationRun, dict[str, Decisions]]],
) -> None:
    _, population = set_results[D(2024, 6, 30)]
    persons = population["person"]
    county = [row for row in persons.values() if "test-county/transport_cross_province" in row]
    assert county
    won = [row for row in county if row["test-county/transport_cross_province"][0] == "granted"]
    assert won, "the data must grant the county's subsidy to someone"
    for row in won:  # the county is named first: the province's and the city's are excluded that year
        assert row["shanxi-2021/transport_cross_province"][0] in ("excluded", "not_eligible", "needs_information")
        assert row["shanxi-2021/transport_cross_province"][0] != "granted"
        assert row["test-city/transport_cross_province"][0] != "granted"
    # outside the county the province's wins over the city's
    city_only = [r for r in persons.values() if "test-city/transport_cross_province" in r and r not in county]
    both = [r for r in city_only if r["test-city/transport_cross_province"][1] is True]
    assert any(r["test-city/transport_cross_province"][0] == "excluded" for r in both)
    counts = Counter(r["test-city/transport_in_province_organized"][0] for r in city_only)
    assert counts["granted"] > 0  # the city's organized subsidy wins over the province's (scope: ever)


def test_after_expiry_each_document_decides_its_own_period(
    set_results: dict[dt.date, tuple[PopulationRun, dict[str, Decisions]]],
) -> None:
    run, _ = set_results[D(2026, 1, 1)]
    totals = run.by_benefit()
    # the province's applications are out of force; its 2025 trips and the county's 2024 ones still decided
    assert totals[("shanxi-2021", "employment_base_reward")]["granted"] == 0
    assert totals[("shanxi-2021", "transport_cross_province")]["granted"] > 0
    assert totals[("test-city", "employment_base_reward")]["granted"] > 0


def test_the_comparison_detects_a_disagreement(
    policies: PolicySet,
    synthetic_population: Path,
    set_results: dict[dt.date, tuple[PopulationRun, dict[str, Decisions]]],
) -> None:
    """Guard against a vacuous check: the single-case answer with another city cap must disagree."""
    city = apply_overrides(
        policies.document("test-city"),
        [{"parameter": "transport_cross_province.cap_fen", "from": "2024-01-01", "value": 90_000}],
    )
    changed = PolicySet.of(*(city if d.id == "test-city" else d for d in policies.documents))
    expected = set_single_case_decisions(changed, synthetic_population, "person", D(2026, 1, 1))
    problems = differences(expected, set_results[D(2026, 1, 1)][1]["person"], limit=1000)
    assert problems
    assert all("test-city/transport_cross_province" in p for p in problems)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    persons=st.lists(person_row, min_size=1, max_size=8),
    organizations=st.lists(organization_row, min_size=1, max_size=4),
    day=st.sampled_from([*DATES, D(2024, 12, 31), D(2025, 1, 1)])
    | st.dates(min_value=D(2021, 7, 1), max_value=D(2026, 12, 31)),
)
def test_random_populations_match_evaluate_all(
    policies: PolicySet, persons: list[dict[str, Any]], organizations: list[dict[str, Any]], day: dt.date
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        write_tables(data, population_tables(persons, organizations))
        assert_set_equivalent(policies, data, day, Path(tmp) / "out")


# ---------------------------------------------------------------- the bundled documents themselves

LINYI = "140821"
BUNDLED_DATES = [D(2024, 6, 30), D(2026, 1, 1), D(2026, 6, 30)]


@pytest.mark.parametrize("day", BUNDLED_DATES, ids=[d.isoformat() for d in BUNDLED_DATES])
def test_the_bundled_documents_match_evaluate_all(synthetic_population: Path, tmp_path: Path, day: dt.date) -> None:
    """The county programme (risk_removed_on included), the 2021 text and its placeholder continuation."""
    runs = assert_set_equivalent(PolicySet.bundled(), synthetic_population, day, tmp_path / "out")
    statuses = Counter(status for row in runs["person"].values() for status, *_ in row.values())
    assert statuses["granted"] > 0, statuses  # not a vacuous comparison: someone is paid


def test_the_county_programme_reads_risk_removal_alike(tmp_path: Path) -> None:
    """风险未消除: removed after the day, on it, before it, never; a poverty-alleviated person regardless."""
    beijing = [{"start": D(2024, 3, 1), "end": None, "work_region": "110105", "organized_export": False}]
    in_linyi = {"region": LINYI, "hukou_region": LINYI, "employment": beijing}
    persons = [
        boundary_person(**in_linyi, categories=["edge_of_poverty"], risk_removed_on=None),
        boundary_person(**in_linyi, categories=["edge_of_poverty"], risk_removed_on=D(2024, 9, 1)),
        boundary_person(**in_linyi, categories=["edge_of_poverty"], risk_removed_on=D(2024, 6, 30)),
        boundary_person(**in_linyi, categories=["sudden_hardship"], risk_removed_on=D(2023, 5, 1)),
        boundary_person(**in_linyi, categories=["poverty_alleviated", "monitored"], risk_removed_on=D(2023, 5, 1)),
        boundary_person(**in_linyi, categories=["relocated"]),
    ]
    write_tables(tmp_path / "data", population_tables(persons, []))
    runs = assert_set_equivalent(PolicySet.bundled(), tmp_path / "data", D(2024, 6, 30), tmp_path / "out")
    got = [runs["person"][i]["linyi-2024/linyi_transport_subsidy"] for i in range(1, 7)]
    granted, refused = ("granted", True, 150_000), ("not_eligible", False, 0)
    assert got == [granted, granted, refused, refused, granted, refused]
