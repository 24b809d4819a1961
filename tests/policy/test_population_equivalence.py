"""The population query (SQL on DuckDB) and the single-case engine give the same answer for everyone.

(a) a synthetic population, every person/organization and every benefit, on four dates around the
validity period; (b) random small populations from Hypothesis, unknowns included; (c) amounts
stay within the policy's caps; (d) the flat layout (collections inlined as prefixed columns, no
ledger) compiles to the same amounts as the normal one-table-per-collection layout.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from population_support import (
    Decisions,
    boundary_population,
    build_flat_query,
    corrected_population,
    differences,
    parquet_decisions,
    population_tables,
    rows_to_decisions,
    single_case_decisions,
    write_tables,
)

from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.policy.batch_run import evaluate_population
from bangfu.policy.case import Case
from bangfu.policy.engine import evaluate_case
from bangfu.policy.facts import CATEGORIES, ENTITIES, LABOR_CAPACITIES, ORGANIZATION_KINDS
from bangfu.policy.loader import load_bundled
from bangfu.policy.model import Policy
from bangfu.policy.population import build_query
from bangfu.policy.sql import Layout
from bangfu.policy.whatif import apply_overrides
from bangfu.synth.population import SCHEMAS

D = dt.date
DATES = [D(2021, 11, 30), D(2024, 6, 30), D(2025, 12, 31), D(2026, 1, 1)]


def run_duckdb(policy: Policy, data_dir: Path, day: dt.date, out_dir: Path) -> dict[str, Decisions]:
    backend = DuckDBBackend(threads=2)
    try:
        run = evaluate_population(policy, backend, data_dir, day, out_dir=out_dir)
    finally:
        backend.close()
    return {
        r.entity: parquet_decisions(out_dir / f"{r.entity}_results.parquet", r.entity, r.query.benefit_ids)
        for r in run.runs
    }


def assert_equivalent(policy: Policy, data_dir: Path, day: dt.date, out_dir: Path) -> dict[str, Decisions]:
    population = run_duckdb(policy, data_dir, day, out_dir)
    for entity_name in ("person", "organization"):
        expected = single_case_decisions(policy, data_dir, entity_name, day)
        problems = differences(expected, population[entity_name])
        assert not problems, f"{entity_name} on {day}:\n" + "\n".join(problems)
    return population


# ---------------------------------------------------------------- (a) synthetic population


@pytest.fixture(scope="module")
def synthetic_results(
    policy: Policy, synthetic_population: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[dt.date, tuple[dict[str, Decisions], dict[str, Decisions]]]:
    """Per date: (DuckDB results read back from Parquet, single-case results), per entity."""
    out = tmp_path_factory.mktemp("results")
    return {
        day: (
            run_duckdb(policy, synthetic_population, day, out / day.isoformat()),
            {e: single_case_decisions(policy, synthetic_population, e, day) for e in ("person", "organization")},
        )
        for day in DATES
    }


@pytest.fixture(scope="module")
def synthetic_runs(
    synthetic_results: dict[dt.date, tuple[dict[str, Decisions], dict[str, Decisions]]],
) -> dict[dt.date, dict[str, Decisions]]:
    return {day: population for day, (population, _) in synthetic_results.items()}


@pytest.mark.parametrize("day", DATES, ids=[d.isoformat() for d in DATES])
def test_synthetic_population_matches_single_case(
    synthetic_results: dict[dt.date, tuple[dict[str, Decisions], dict[str, Decisions]]], day: dt.date
) -> None:
    population, single = synthetic_results[day]
    for entity_name, count in (("person", 3000), ("organization", 300)):
        assert len(population[entity_name]) == count
        problems = differences(single[entity_name], population[entity_name])
        assert not problems, f"{entity_name} on {day}:\n" + "\n".join(problems)
    statuses = Counter(s for entity in population.values() for row in entity.values() for s, *_ in row.values())
    if day == D(2026, 1, 1):
        # expired: applications are out of force; the events of 2025 (trips, courses) are still decided
        applications = {
            row[bid][0]
            for entity in population.values()
            for row in entity.values()
            for bid in ("labour_export_service", "welfare_post_eligibility", "hiring_subsidy")
            if bid in row
        }
        assert applications == {"not_in_force"}
        assert {"not_in_force", "granted", "not_eligible"} <= set(statuses)
    else:
        # the data exercise every branch of the decision procedure
        assert {"granted", "not_eligible", "excluded", "needs_information"} <= set(statuses)


def test_synthetic_population_grants_money(synthetic_runs: dict[dt.date, dict[str, Decisions]]) -> None:
    on = synthetic_runs[D(2024, 6, 30)]["person"]
    cross = [row["transport_cross_province"] for row in on.values()]
    assert sum(1 for s, _, a in cross if s == "granted" and a > 0) > 100
    wft = [row["work_for_training_subsidy"] for row in synthetic_runs[D(2021, 11, 30)]["organization"].values()]
    assert any(s == "granted" and a > 0 for s, _, a in wft)


def test_the_comparison_detects_a_disagreement(
    policy: Policy, synthetic_population: Path, synthetic_runs: dict[dt.date, dict[str, Decisions]]
) -> None:
    """Guard against a vacuous check: a single-case run with another cap must disagree."""
    raised = apply_overrides(
        policy, [{"parameter": "transport_cross_province.cap_fen", "from": "2024-01-01", "value": 90_000}]
    )
    expected = single_case_decisions(raised, synthetic_population, "person", D(2024, 6, 30))
    problems = differences(expected, synthetic_runs[D(2024, 6, 30)]["person"], limit=1000)
    assert problems
    assert all("transport_cross_province" in p for p in problems)


# ---------------------------------------------------------------- (b) random populations

SHANXI = ["141123", "141124", "140105", "140926", "140932"]
ELSEWHERE = ["440305", "110105", "320583"]
any_date = st.dates(min_value=D(2019, 1, 1), max_value=D(2027, 6, 30))
maybe_date = st.none() | any_date
maybe_bool = st.none() | st.booleans()


def count(high: int, edges: tuple[int, ...] = ()) -> st.SearchStrategy[int | None]:
    return st.none() | st.integers(0, high) | st.sampled_from(edges or (0,))


travel_cost = (
    st.none() | st.just(0) | st.integers(1, 200_000) | st.sampled_from([29_999, 30_000, 30_001, 79_999, 80_000, 80_001])
)
spell = st.fixed_dictionaries(
    {
        "start": st.none() | any_date,
        "end": maybe_date,
        "work_region": st.none() | st.sampled_from(SHANXI + ELSEWHERE),
        "organized_export": maybe_bool,
        "travel_cost_fen": travel_cost,
    }
)
training = st.fixed_dictionaries({"start": maybe_date, "days": count(40, (0, 1, 30))})
# units a receipt paid (ADR 0015): unknown, none, or around what a case can be due
units = st.none() | st.integers(0, 40) | st.sampled_from([1, 3, 6])
person_received = st.fixed_dictionaries(
    {
        "benefit": st.none()
        | st.sampled_from(
            [
                "transport_cross_province",
                "transport_in_province_organized",
                "training_living_allowance",
                "training_living_allowance",
                "welfare_post_eligibility",
                "incubator_reward",
                "unknown_benefit",
            ]
        ),
        "date": maybe_date,
        "units": units,
    }
)
person_row = st.fixed_dictionaries(
    {
        "region": st.none() | st.sampled_from(SHANXI),
        "hukou_region": st.none() | st.sampled_from(SHANXI + ELSEWHERE),
        "categories": st.none()
        | st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3)
        | st.just(["poverty_alleviated"]),
        "labor_capacity": st.none() | st.sampled_from(LABOR_CAPACITIES),
        "birth_date": maybe_date,
        "employment": st.lists(spell, max_size=3),
        "training": st.lists(training, max_size=2),
        "received": st.lists(person_received, max_size=3),
    }
)
trainee = st.fixed_dictionaries(
    {
        "start": st.none() | st.dates(min_value=D(2020, 6, 1), max_value=D(2022, 6, 30)),
        "months": count(12, (0, 1, 6, 7)),
        "previously_subsidized": maybe_bool,
    }
)
org_received = st.fixed_dictionaries(
    {
        "benefit": st.none()
        | st.sampled_from(
            [
                "employment_base_reward",
                "one_time_hiring_subsidy",
                "hiring_subsidy",
                "incubator_reward",
                "heritage_workshop_subsidy",
                "work_for_training_subsidy",
                "job_referral_subsidy",
                "transport_cross_province",
            ]
        ),
        "date": maybe_date,
        "units": units,
    }
)
organization_row = st.fixed_dictionaries(
    {
        "kind": st.none() | st.sampled_from(ORGANIZATION_KINDS),
        "region": st.none() | st.sampled_from(SHANXI),
        "recognized_base": maybe_bool,
        "absorbed_poverty_alleviated": count(80, (0, 1, 45, 49, 50)),
        "absorbed_edge_of_poverty": count(20, (0, 1, 5)),
        "operating_since": st.none() | st.dates(min_value=D(2015, 1, 1), max_value=D(2027, 1, 1)),
        "resident_entities": count(40, (19, 20)),
        "absorbed_poor_workers": count(40, (19, 20)),
        "placed_by_export": count(60, (0, 1)),
        "contracted_households": count(30, (0, 1)),
        "trainees": st.lists(trainee, max_size=4),
        "received": st.lists(org_received, max_size=3),
    }
)
evaluation_date = st.sampled_from(
    [
        D(2021, 6, 30),
        D(2021, 7, 1),
        D(2021, 11, 30),
        D(2021, 12, 31),
        D(2022, 1, 1),
        D(2024, 2, 29),
        D(2024, 6, 30),
        D(2025, 12, 31),
        D(2026, 1, 1),
    ]
) | st.dates(min_value=D(2021, 7, 1), max_value=D(2025, 12, 31))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    persons=st.lists(person_row, min_size=1, max_size=8),
    organizations=st.lists(organization_row, min_size=1, max_size=6),
    day=evaluation_date,
)
def test_random_populations_match_single_case(
    persons: list[dict[str, Any]], organizations: list[dict[str, Any]], day: dt.date
) -> None:
    policy = load_bundled()  # not a fixture argument: Hypothesis would print the whole policy
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        write_tables(data_dir, population_tables(persons, organizations))
        assert_equivalent(policy, data_dir, day, Path(tmp) / "out")


@pytest.mark.parametrize("day", [D(2025, 2, 27), D(2025, 2, 28), D(2025, 3, 1), D(2025, 1, 1)], ids=str)
def test_boundary_dates_match_single_case(policy: Policy, tmp_path: Path, day: dt.date) -> None:
    """Leap days, spells ending on 1 January, receipts dated on the evaluation day."""
    write_tables(tmp_path / "data", boundary_population(day))
    runs = assert_equivalent(policy, tmp_path / "data", day, tmp_path / "out")
    # a spell that ended on 31 December does not count for the next year; one ending on 1 January does
    assert runs["person"][1]["transport_cross_province"] == ("granted", True, 80_000)
    assert runs["person"][2]["transport_cross_province"][1] is False
    assert runs["person"][4]["transport_cross_province"][0] == "excluded"
    # （十四）days trained up to the date only: the 3-day course from 1 January, and day one of the other
    trained = min(3, (day - D(2025, 1, 1)).days + 1) + 1
    assert runs["person"][5]["training_living_allowance"] == ("granted", True, trained * 1500)
    # one year from 2024-02-29 is 2025-02-28: eligible from that day (the amount needs a city standard)
    leap_eligible = runs["organization"][1]["incubator_reward"][1]
    assert leap_eligible is (day >= D(2025, 2, 28))
    assert runs["organization"][3]["incubator_reward"][1] is (day >= D(2025, 3, 1))


# ---------------------------------------------------------------- (c) amounts within caps


def check_amount_bounds(policy: Policy, case: Case) -> None:
    result = evaluate_case(policy, case)
    for b in result["benefits"]:
        amount = b["amount_fen"]
        assert type(amount) is int and amount >= 0, b
        if b["status"] != "granted":
            assert amount == 0, b
    benefits = {b["id"]: b for b in result["benefits"]}
    if case.entity.name == "person":
        assert benefits["transport_cross_province"]["amount_fen"] <= 80_000
        assert benefits["transport_in_province_organized"]["amount_fen"] <= 30_000
        assert benefits["welfare_post_eligibility"]["amount_fen"] == 0
        # at most one of the two transport subsidies per year
        assert [benefits[t]["status"] for t in ("transport_cross_province", "transport_in_province_organized")].count(
            "granted"
        ) <= 1
    else:
        base = benefits["employment_base_reward"]
        if base["status"] == "granted":
            assert base["amount_fen"] == 10_000_000
        assert benefits["incubator_reward"]["amount_fen"] <= 20_000_000
        trainees = len(case.collections["trainees"])
        assert benefits["work_for_training_subsidy"]["amount_fen"] <= 30_000 * 6 * trainees
        if benefits["employment_base_reward"]["status"] == "granted":
            assert benefits["one_time_hiring_subsidy"]["status"] != "granted"


def to_case(entity_name: str, row: dict[str, Any], day: dt.date) -> Case:
    entity = ENTITIES[entity_name]
    facts = {f: row.get(f) for f in entity.fields}
    collections = {name: [dict(r) for r in row.get(name, [])] for name in entity.collections}
    region = facts.get("region")
    return Case(day, entity, region if isinstance(region, str) else None, facts, collections)


@settings(max_examples=300, deadline=None)
@given(person=person_row, organization=organization_row, day=evaluation_date)
def test_amounts_are_never_negative_nor_above_caps(
    person: dict[str, Any], organization: dict[str, Any], day: dt.date
) -> None:
    policy = load_bundled()
    check_amount_bounds(policy, to_case("person", person, day))
    check_amount_bounds(policy, to_case("organization", organization, day))


def test_population_amounts_within_caps(
    synthetic_runs: dict[dt.date, dict[str, Decisions]], synthetic_population: Path
) -> None:
    trainee_counts = Counter(
        pq.read_table(synthetic_population / "trainees.parquet", columns=["org_id"]).column(0).to_pylist()
    )
    for runs in synthetic_runs.values():
        for row in runs["person"].values():
            assert all(a >= 0 for _, _, a, *_ in row.values())
            assert row["transport_cross_province"][2] <= 80_000
            assert row["transport_in_province_organized"][2] <= 30_000
        for org_id, row in runs["organization"].items():
            assert all(a >= 0 for _, _, a, *_ in row.values())
            status, _, amount = row["employment_base_reward"]
            assert amount == (10_000_000 if status == "granted" else 0)
            assert row["incubator_reward"][2] <= 20_000_000
            assert row["work_for_training_subsidy"][2] <= 30_000 * 6 * trainee_counts.get(org_id, 0)


# ---------------------------------------------------------------- (d) flat layout

FLAT_INLINE = {"employment": "e_", "training": "t_"}
PERSON_COLUMNS = ("region", "hukou_region", "categories", "labor_capacity", "birth_date")
SPELL_FIELDS = ("start", "end", "work_region", "organized_export", "travel_cost_fen")
TRAINING_FIELDS = ("start", "days")


def flat_and_normal_amounts(
    policy: Policy, persons: list[dict[str, Any]], day: dt.date, with_flags: bool = False
) -> tuple[Decisions, ...]:
    """Run the same persons (≤ 1 spell, ≤ 1 training, no ledger) in both layouts on DuckDB.

    ``with_flags``: the flat table holds ``categories`` as one boolean column per category
    (``cat_poverty_alleviated`` ...) instead of a list column.
    """
    schemas = {name: SCHEMAS[name] for name in ("persons", "employment", "training", "received")}
    flat_schema = schemas["persons"]
    if with_flags:
        flat_schema = flat_schema.remove(flat_schema.get_field_index("categories"))
        for category in CATEGORIES:
            flat_schema = flat_schema.append(pa.field("cat_" + category, pa.bool_()))
    for prefix, name in (("e_", "employment"), ("t_", "training")):
        for field in schemas[name]:
            if field.name != "person_id":
                flat_schema = flat_schema.append(pa.field(prefix + field.name, field.type))
    normal: dict[str, list[dict[str, Any]]] = {name: [] for name in schemas}
    flat: list[dict[str, Any]] = []
    for pid, p in enumerate(persons, start=1):
        base = {"person_id": pid, **{c: p.get(c) for c in PERSON_COLUMNS}}
        normal["persons"].append(base)
        row = dict(base)
        if with_flags:
            held = row.pop("categories")
            for category in CATEGORIES:
                row["cat_" + category] = None if held is None else category in held
        for prefix, name, fields in (("e_", "employment", SPELL_FIELDS), ("t_", "training", TRAINING_FIELDS)):
            items = p[name][:1]
            if items:
                normal[name].append({"person_id": pid, **items[0]})
            for f in fields:
                row[prefix + f] = items[0][f] if items else None
        flat.append(row)
    regions = sorted({p["region"] for p in persons if p.get("region")})
    backend = DuckDBBackend(threads=2)
    try:
        for name, rows in normal.items():
            backend.register_arrow(name, pa.Table.from_pylist(rows, schema=schemas[name]))
        query = build_query(policy, "person", day, regions)
        normal_rows = backend.fetch(query.sql)
        backend.register_arrow("persons", pa.Table.from_pylist(flat, schema=flat_schema))
        for name in ("employment", "training", "received"):
            # the flat query must not read the collection tables: make any such read fail
            backend.con.execute(f'DROP VIEW IF EXISTS "{name}"')
        flags = {"categories": "cat_"} if with_flags else None
        flat_query = build_flat_query(policy, "person", day, regions, FLAT_INLINE, frozenset({"received"}), flags)
        flat_rows = backend.fetch(flat_query.sql)
        # amounts only, with the columns that hold no NULL declared NOT NULL: the shortest SQL
        non_null = frozenset(c for c in flat_schema.names if all(r.get(c) is not None for r in flat))
        layout = Layout(inline=FLAT_INLINE, empty=frozenset({"received"}), flags=flags or {}, non_null=non_null)
        lean = backend.fetch(build_query(policy, "person", day, regions, layout=layout, amounts_only=True).sql)
    finally:
        backend.close()
    lean_amounts = {r["person_id"]: {b: r[f"{b}__amount_fen"] for b in query.benefit_ids} for r in lean}
    assert lean_amounts == {r["person_id"]: {b: r[f"{b}__amount_fen"] for b in query.benefit_ids} for r in normal_rows}
    assert flat_query.benefit_ids == query.benefit_ids
    return (
        rows_to_decisions(normal_rows, "person_id", query.benefit_ids),
        rows_to_decisions(flat_rows, "person_id", query.benefit_ids),
    )


def only_amounts(decisions: Decisions) -> dict[Any, dict[str, int]]:
    return {k: {b: d[2] for b, d in row.items()} for k, row in decisions.items()}


flat_spell = spell.filter(lambda s: s["start"] is not None)  # a flat row is absent when its first field is NULL
flat_training = training.filter(lambda t: t["start"] is not None)
flat_person = person_row.flatmap(
    lambda p: st.fixed_dictionaries(
        {"employment": st.lists(flat_spell, max_size=1), "training": st.lists(flat_training, max_size=1)}
    ).map(lambda extra: {**p, **extra, "received": []})
)


@settings(max_examples=40, deadline=None)
@given(persons=st.lists(flat_person, min_size=1, max_size=10), day=evaluation_date, with_flags=st.booleans())
def test_flat_layout_gives_the_same_amounts(persons: list[dict[str, Any]], day: dt.date, with_flags: bool) -> None:
    policy = load_bundled()
    normal, flat = flat_and_normal_amounts(policy, persons, day, with_flags)
    assert only_amounts(flat) == only_amounts(normal)
    assert flat == normal, "\n".join(differences(normal, flat, labels=("normal", "flat")))


@pytest.mark.parametrize("with_flags", [False, True], ids=["list", "flags"])
def test_flat_layout_on_synthetic_persons(policy: Policy, synthetic_population: Path, with_flags: bool) -> None:
    tables = {
        name: pq.read_table(synthetic_population / f"{name}.parquet").to_pylist()
        for name in ("persons", "employment", "training")
    }
    persons: dict[int, dict[str, Any]] = {
        p["person_id"]: {**p, "employment": [], "training": [], "received": []} for p in tables["persons"]
    }
    for name in ("employment", "training"):
        for row in tables[name]:
            owner = persons[row.pop("person_id")]
            if not owner[name]:
                owner[name].append(row)
    ordered = [persons[k] for k in sorted(persons)]
    normal, flat = flat_and_normal_amounts(policy, ordered, D(2024, 6, 30), with_flags)
    assert only_amounts(flat) == only_amounts(normal)
    assert flat == normal, "\n".join(differences(normal, flat, labels=("normal", "flat")))
    assert sum(a for row in only_amounts(flat).values() for a in row.values()) > 0


# ---------------------------------------------------------------- (e) the 2021 readings corrected (ADR 0015)


def test_corrected_readings_agree_on_both_back_ends(policy: Policy, tmp_path: Path) -> None:
    """Per-unit repeats, the category hierarchy, hukou outside Shanxi and priority ranks, in SQL as in one case."""
    day = D(2024, 7, 4)
    write_tables(tmp_path / "data", corrected_population())
    runs = assert_equivalent(policy, tmp_path / "data", D(2021, 12, 31), tmp_path / "out-2021")
    assert runs["organization"][3]["work_for_training_subsidy"] == ("granted", True, 30_000)  # December only
    runs = assert_equivalent(policy, tmp_path / "data", day, tmp_path / "out")
    person, org = runs["person"], runs["organization"]
    assert person[1]["training_living_allowance"] == ("granted", True, 7 * 1500)
    assert person[2]["training_living_allowance"] == ("granted", True, 4 * 1500)
    assert person[3]["training_living_allowance"] == ("excluded", True, 0)
    assert person[4]["training_living_allowance"] == ("needs_information", True, 0)
    assert person[5]["welfare_post_eligibility"] == ("granted", True, 0, 3)
    assert person[5]["employment_difficulty"][0] == "needs_information"  # a target: the local standard is unset
    assert person[6]["welfare_post_eligibility"] == ("granted", True, 0, 1)
    assert person[7]["transport_cross_province"] == ("not_eligible", False, 0)
    assert person[8]["welfare_post_eligibility"] == ("needs_information", None, 0, None)
    assert person[1]["welfare_post_eligibility"] == ("granted", True, 0, 2)
    assert person[1]["labour_export_service"] == ("granted", True, 0, 1)
    assert org[1]["one_time_hiring_subsidy"][:2] == ("needs_information", True)  # 2 new hires, standard unset
    assert org[2]["one_time_hiring_subsidy"] == ("excluded", True, 0)
