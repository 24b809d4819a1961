"""Helpers for the tests that hold population runs to the single-case engine (not a test module)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bangfu.policy.engine import evaluate_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.facts import ENTITIES
from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.population import PopulationQuery, build_query
from bangfu.policy.population_cases import iter_cases
from bangfu.policy.sql import Layout
from bangfu.synth.population import SCHEMAS

# (status, eligible, amount_fen), and the priority rank for a benefit with a priority order
Decision = tuple[Any, ...]
Decisions = dict[Any, dict[str, Decision]]

ENTITY_KEYS = {"person": "person_id", "organization": "org_id"}


def write_tables(folder: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Write rows with exactly the synthetic population's Parquet schemas (missing columns are NULL)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        schema = SCHEMAS[name]
        full = [{f.name: row.get(f.name) for f in schema} for row in rows]
        pq.write_table(pa.Table.from_pylist(full, schema=schema), folder / f"{name}.parquet")


def single_case_decisions(policy: Policy, data_dir: Path, entity_name: str, day: dt.date) -> Decisions:
    entity = ENTITIES[entity_name]
    keys = pq.read_table(data_dir / f"{entity.table}.parquet", columns=[entity.key]).column(0).to_pylist()
    out: Decisions = {}
    for key, case in zip(keys, iter_cases(data_dir, entity_name, day), strict=True):
        result = evaluate_case(policy, case)
        out[key] = {b["id"]: _decision(b, policy.benefits[b["id"]].priority != ()) for b in result["benefits"]}
    return out


def set_single_case_decisions(policies: PolicySet, data_dir: Path, entity_name: str, day: dt.date) -> Decisions:
    """``evaluate_all`` for every entity, keyed ``document/benefit``, every document covering it shown.

    Pinning the covering documents shows those that decided nothing (all ``not_in_force``) too; the
    answers and the cross-document exclusions are the same as unpinned.
    """
    entity = ENTITIES[entity_name]
    keys = pq.read_table(data_dir / f"{entity.table}.parquet", columns=[entity.key]).column(0).to_pylist()
    out: Decisions = {}
    for key, case in zip(keys, iter_cases(data_dir, entity_name, day), strict=True):
        covering = tuple(d.id for d in policies.documents_for(case.region) if d.benefits_for(entity_name))
        result = evaluate_all(policies, dataclasses.replace(case, documents=covering))
        out[key] = {}
        for b in result["benefits"]:
            ranked = policies.document(b["document"]).benefits[b["id"]].priority != ()
            out[key][f"{b['document']}/{b['id']}"] = _decision(b, ranked)
    return out


def set_parquet_decisions(path: Path, entity_name: str, benefit_ids: Iterable[str]) -> Decisions:
    """Like ``parquet_decisions``, leaving out the documents that do not cover an entity (NULL status)."""
    decisions = parquet_decisions(path, entity_name, benefit_ids)
    return {k: {b: d for b, d in row.items() if d[0] is not None} for k, row in decisions.items()}


def _decision(benefit: dict[str, Any], ranked: bool) -> Decision:
    decided = (benefit["status"], benefit["eligible"], benefit["amount_fen"])
    return (*decided, (benefit["priority"] or {}).get("rank")) if ranked else decided


def rows_to_decisions(rows: Iterable[dict[str, Any]], key: str, benefit_ids: Iterable[str]) -> Decisions:
    ids = list(benefit_ids)
    out: Decisions = {}
    for row in rows:
        decided: dict[str, Decision] = {}
        for bid in ids:
            decision = (row[f"{bid}__status"], row[f"{bid}__eligible"], row[f"{bid}__amount_fen"])
            rank_column = f"{bid}__priority"
            decided[bid] = (*decision, row[rank_column]) if rank_column in row else decision
        out[row[key]] = decided
    return out


def parquet_decisions(path: Path, entity_name: str, benefit_ids: Iterable[str]) -> Decisions:
    """Results written by a back end (a file from DuckDB, a folder of parts from Spark)."""
    table = pq.read_table(path)
    return rows_to_decisions(table.to_pylist(), ENTITY_KEYS[entity_name], benefit_ids)


def differences(
    expected: Decisions, actual: Decisions, limit: int = 15, labels: tuple[str, str] = ("single case", "population")
) -> list[str]:
    """Human-readable differences, at most ``limit`` of them (empty when all agree)."""
    out: list[str] = []
    if set(expected) != set(actual):
        out.append(
            f"keys differ: only {labels[0]} {sorted(set(expected) - set(actual))[:10]}, "
            f"only {labels[1]} {sorted(set(actual) - set(expected))[:10]}"
        )
    for key in sorted(set(expected) & set(actual)):
        for bid, want in expected[key].items():
            got = actual[key].get(bid)
            if got != want:
                out.append(f"{key} {bid}: {labels[0]} {want}, {labels[1]} {got}")
                if len(out) >= limit:
                    return out
    return out


def build_flat_query(
    policy: Policy,
    entity_name: str,
    day: dt.date,
    regions: list[str],
    inline: dict[str, str],
    empty: frozenset[str],
    flags: dict[str, str] | None = None,
) -> PopulationQuery:
    """``build_query`` for a flat layout: collections inlined as prefixed columns, or absent."""
    layout = Layout(inline=inline, empty=empty, flags=flags or {})
    return build_query(policy, entity_name, day, regions, layout=layout)


def population_tables(persons: list[dict[str, Any]], organizations: list[dict[str, Any]]) -> dict[str, list[Any]]:
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in ("persons", "employment", "training", "received", "organizations", "trainees", "org_received")
    }
    for index, p in enumerate(persons, start=1):
        tables["persons"].append(
            {
                "person_id": index,
                **{k: v for k, v in p.items() if not isinstance(v, list)},
                "categories": p["categories"],
            }
        )
        for name in ("employment", "training", "received"):
            tables[name] += [{"person_id": index, **row} for row in p[name]]
    for index, o in enumerate(organizations, start=1):
        tables["organizations"].append({"org_id": index, **{k: v for k, v in o.items() if not isinstance(v, list)}})
        tables["trainees"] += [{"org_id": index, **row} for row in o["trainees"]]
        tables["org_received"] += [{"org_id": index, **row} for row in o["received"]]
    return tables


def boundary_person(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "region": "141123",
        "hukou_region": "141123",
        "categories": ["poverty_alleviated"],
        "labor_capacity": "ordinary",
        "birth_date": None,
        "employment": [],
        "training": [],
        "received": [],
    }
    return {**base, **fields}


def boundary_incubator(operating_since: dt.date) -> dict[str, Any]:
    return {
        "kind": "incubator",
        "region": "141123",
        "recognized_base": False,
        "absorbed_poverty_alleviated": 0,
        "absorbed_edge_of_poverty": 0,
        "operating_since": operating_since,
        "resident_entities": 20,
        "absorbed_poor_workers": 20,
        "placed_by_export": 0,
        "contracted_households": 0,
        "trainees": [],
        "received": [],
    }


def boundary_population(day: dt.date) -> dict[str, list[dict[str, Any]]]:
    """Five persons and three incubators on the edges of the date rules, for evaluation on ``day``.

    Persons: a cross-province spell ending 1 January 2025, one ending 31 December 2024, one
    starting on ``day``, one already paid on ``day``, two trainings in 2025. Incubators operating
    since 2024-02-29, 2024-02-28 and 2024-03-01.
    """
    D = dt.date
    spell = {"work_region": "440305", "organized_export": False, "travel_cost_fen": 80_001}
    persons = [
        boundary_person(employment=[{**spell, "start": D(2024, 3, 1), "end": D(2025, 1, 1)}]),
        boundary_person(employment=[{**spell, "start": D(2024, 3, 1), "end": D(2024, 12, 31)}]),
        boundary_person(employment=[{**spell, "start": day, "end": None}]),
        boundary_person(
            employment=[{**spell, "start": D(2025, 1, 1), "end": None}],
            received=[{"benefit": "transport_cross_province", "date": day}],
        ),
        boundary_person(training=[{"start": D(2025, 1, 1), "days": 3}, {"start": day, "days": 2}]),
    ]
    organizations = [
        boundary_incubator(D(2024, 2, 29)),
        boundary_incubator(D(2024, 2, 28)),
        boundary_incubator(D(2024, 3, 1)),
    ]
    return population_tables(persons, organizations)


def corrected_population() -> dict[str, list[dict[str, Any]]]:
    """Eight persons and three organizations on the readings ADR 0015 corrected, for 2024-07-04.

    Persons: a 10-day course from 2024-06-28 with 0, 3, 7 and an unknown number of days paid; an
    边缘易致贫 weak worker; a relocated weak worker; a poverty-alleviated person with a Henan hukou
    working in Guangdong; a 突发严重困难户 member of unknown labour capacity. Organizations: a workshop
    with 5 hires and 3 or 5 paid; an enterprise with 以工代训 months partly paid.
    """
    D = dt.date
    course = {"start": D(2024, 6, 28), "days": 10}
    paid = {"benefit": "training_living_allowance", "date": D(2024, 6, 30)}
    spell = {"start": D(2024, 3, 1), "end": None, "work_region": "440305", "organized_export": False}
    persons = [
        boundary_person(training=[course]),  # 7 days trained, none paid
        boundary_person(training=[course], received=[{**paid, "units": 3}]),  # 4 left
        boundary_person(training=[course], received=[{**paid, "units": 7}]),  # all paid
        boundary_person(training=[course], received=[{**paid, "units": None}]),  # unknown
        boundary_person(categories=["edge_of_poverty"], labor_capacity="weak"),  # rural low-income: rank 3
        boundary_person(categories=["relocated"], labor_capacity="weak"),  # rank 1
        boundary_person(hukou_region="410102", employment=[{**spell, "travel_cost_fen": 90_000}]),
        boundary_person(categories=["sudden_hardship"], labor_capacity=None),
    ]
    workshop = {
        "kind": "workshop",
        "region": "141123",
        "recognized_base": False,
        "absorbed_poverty_alleviated": 5,
        "absorbed_edge_of_poverty": 0,
        "operating_since": None,
        "resident_entities": 0,
        "absorbed_poor_workers": 0,
        "placed_by_export": 0,
        "contracted_households": 0,
        "trainees": [],
    }
    organizations = [
        {**workshop, "received": [{"benefit": "one_time_hiring_subsidy", "date": D(2023, 6, 1), "units": 3}]},
        {**workshop, "received": [{"benefit": "one_time_hiring_subsidy", "date": D(2023, 6, 1), "units": 5}]},
        {
            **workshop,
            "kind": "enterprise",
            "trainees": [{"start": D(2021, 9, 1), "months": 8, "previously_subsidized": False}],
            "received": [{"benefit": "work_for_training_subsidy", "date": D(2021, 11, 30), "units": 3}],
        },
    ]
    return population_tables(persons, organizations)
