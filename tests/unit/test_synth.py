from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bangfu.core import citizen_id, regions
from bangfu.policy.facts import CATEGORIES, LABOR_CAPACITIES, ORGANIZATION_KINDS
from bangfu.synth.population import write_population

PERSONS = 2_000
ORGANIZATIONS = 100
YEAR = 2024

EXPECTED_SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "persons": [
        ("person_id", pa.int64()),
        ("id_number", pa.string()),
        ("name", pa.string()),
        ("sex", pa.string()),
        ("region", pa.string()),
        ("hukou_region", pa.string()),
        ("categories", pa.list_(pa.string())),
        ("labor_capacity", pa.string()),
        ("birth_date", pa.date32()),
        ("risk_removed_on", pa.date32()),
    ],
    "employment": [
        ("person_id", pa.int64()),
        ("start", pa.date32()),
        ("end", pa.date32()),
        ("work_region", pa.string()),
        ("organized_export", pa.bool_()),
        ("travel_cost_fen", pa.int64()),
    ],
    "training": [("person_id", pa.int64()), ("start", pa.date32()), ("days", pa.int64())],
    "received": [("person_id", pa.int64()), ("benefit", pa.string()), ("date", pa.date32()), ("units", pa.int64())],
    "organizations": [
        ("org_id", pa.int64()),
        ("name", pa.string()),
        ("credit_code", pa.string()),
        ("kind", pa.string()),
        ("region", pa.string()),
        ("recognized_base", pa.bool_()),
        ("absorbed_poverty_alleviated", pa.int64()),
        ("absorbed_edge_of_poverty", pa.int64()),
        ("operating_since", pa.date32()),
        ("resident_entities", pa.int64()),
        ("absorbed_poor_workers", pa.int64()),
        ("placed_by_export", pa.int64()),
        ("contracted_households", pa.int64()),
    ],
    "trainees": [
        ("org_id", pa.int64()),
        ("start", pa.date32()),
        ("months", pa.int64()),
        ("previously_subsidized", pa.bool_()),
    ],
    "org_received": [("org_id", pa.int64()), ("benefit", pa.string()), ("date", pa.date32()), ("units", pa.int64())],
}

Rows = dict[str, list[dict[str, Any]]]


def read_all(directory: Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(directory / f"{name}.parquet") for name in EXPECTED_SCHEMAS}


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, int], dict[str, pa.Table]]:
    directory = tmp_path_factory.mktemp("population")
    counts = write_population(directory, PERSONS, ORGANIZATIONS, seed=7, year=YEAR)
    return counts, read_all(directory)


@pytest.fixture(scope="module")
def rows(population: tuple[dict[str, int], dict[str, pa.Table]]) -> Rows:
    return {name: table.to_pylist() for name, table in population[1].items()}


def test_schemas_are_exact(population: tuple[dict[str, int], dict[str, pa.Table]]) -> None:
    _, tables = population
    for name, expected in EXPECTED_SCHEMAS.items():
        schema = tables[name].schema
        assert [(f.name, f.type) for f in schema] == expected, name


def test_row_counts_match_files(population: tuple[dict[str, int], dict[str, pa.Table]]) -> None:
    counts, tables = population
    assert counts == {name: table.num_rows for name, table in tables.items()}
    assert counts["persons"] == PERSONS
    assert counts["organizations"] == ORGANIZATIONS
    # Mean 1.5 spells per person, ~30% with 1–2 trainings, ~20% with 1–2 ledger entries.
    assert 1.3 * PERSONS < counts["employment"] < 1.7 * PERSONS
    assert 0.3 * PERSONS < counts["training"] < 0.55 * PERSONS
    assert 0.2 * PERSONS < counts["received"] < 0.4 * PERSONS


def test_every_id_number_is_valid_and_consistent(rows: Rows) -> None:
    counties = {c.code: c for c in regions.shanxi_counties()}
    for person in rows["persons"]:
        result = citizen_id.check(str(person["id_number"]))
        assert result.valid, (person, result.reason)
        assert result.region == person["hukou_region"]
        assert result.birth_date == person["birth_date"]
        assert result.sex == person["sex"]
        hukou = counties[str(person["hukou_region"])]
        assert not hukou.statistics_only


def test_person_columns(rows: Rows) -> None:
    persons = rows["persons"]
    assert [p["person_id"] for p in persons] == list(range(1, PERSONS + 1))
    county_codes = {c.code for c in regions.shanxi_counties()}
    oldest, youngest = date(YEAR - 66, 7, 2), date(YEAR - 16, 7, 1)
    for person in persons:
        assert person["region"] in county_codes
        name = str(person["name"])
        assert 2 <= len(name) <= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in name)
        assert set(person["categories"]) <= set(CATEGORIES)
        assert person["labor_capacity"] is None or person["labor_capacity"] in LABOR_CAPACITIES
        assert oldest <= person["birth_date"] <= youngest
    same_region = sum(p["region"] == p["hukou_region"] for p in persons)
    assert same_region > 0.85 * PERSONS
    alleviated = sum("poverty_alleviated" in p["categories"] for p in persons)
    assert 0.8 * PERSONS < alleviated < 0.9 * PERSONS
    key = sum(p["hukou_region"] in regions.DEMO_KEY_COUNTIES for p in persons)
    assert key > 0.1 * PERSONS  # weighted toward the key counties (10 of 117 would be ~8.5%)
    # 风险消除日期: only for monitored people, before the data year, and for some of them only
    removed = [p for p in persons if p["risk_removed_on"] is not None]
    assert removed and all("monitored" in p["categories"] for p in removed)
    assert all(date(YEAR - 2, 1, 1) <= p["risk_removed_on"] <= date(YEAR - 1, 12, 31) for p in removed)
    assert len(removed) < sum("monitored" in p["categories"] for p in persons)


def test_employment_spells(rows: Rows) -> None:
    spells = rows["employment"]
    person_ids = {p["person_id"] for p in rows["persons"]}
    cross_province = [s for s in spells if not regions.is_shanxi(str(s["work_region"]))]
    assert 0.25 * len(spells) < len(cross_province) < 0.45 * len(spells)
    assert any(s["end"] is not None for s in spells)
    assert any(s["end"] is None for s in spells)
    assert any(s["travel_cost_fen"] is None for s in spells)
    for spell in spells:
        assert spell["person_id"] in person_ids
        assert len(str(spell["work_region"])) == 6
        assert date(YEAR - 2, 1, 1) <= spell["start"] <= date(YEAR, 12, 31)
        assert spell["end"] is None or spell["end"] > spell["start"]
        cost = spell["travel_cost_fen"]
        assert cost is None or 0 <= cost <= 150_000


def test_person_collections(rows: Rows) -> None:
    for training in rows["training"]:
        assert 1 <= training["days"] <= 30
        assert date(YEAR - 1, 1, 1) <= training["start"] <= date(YEAR, 12, 31)
    benefits = {"transport_cross_province", "transport_in_province_organized", "training_living_allowance"}
    for entry in rows["received"]:
        assert entry["benefit"] in benefits
        assert date(YEAR - 1, 1, 1) <= entry["date"] <= date(YEAR, 12, 31)
        # days paid for the per-day allowance; one for a benefit paid once a year (ADR 0015)
        high = 20 if entry["benefit"] == "training_living_allowance" else 1
        assert 1 <= entry["units"] <= high


def credit_code_is_valid(code: str) -> bool:
    """GB 32100 check character, written independently of the generator."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(code[:17]))
    return len(code) == 18 and alphabet[(31 - total % 31) % 31] == code[17]


def test_organizations(rows: Rows) -> None:
    orgs = rows["organizations"]
    real_counties = {c.code for c in regions.shanxi_counties() if not c.statistics_only}
    assert [o["org_id"] for o in orgs] == list(range(1, ORGANIZATIONS + 1))
    for org in orgs:
        kind = org["kind"]
        assert kind in ORGANIZATION_KINDS
        assert org["region"] in real_counties
        assert credit_code_is_valid(str(org["credit_code"])), org["credit_code"]
        assert str(org["credit_code"])[2:8] == org["region"]
        assert str(org["name"]).startswith(regions.name_of(str(org["region"]))[:2])
        if kind != "incubator":
            assert org["resident_entities"] == 0
        if kind not in ("hr_agency", "labor_broker"):
            assert org["placed_by_export"] == 0
        if kind != "heritage_workshop":
            assert org["contracted_households"] == 0
    assert sum(o["kind"] in ("enterprise", "workshop") for o in orgs) > 0.6 * ORGANIZATIONS


def test_organization_collections(rows: Rows) -> None:
    org_ids = {o["org_id"] for o in rows["organizations"]}
    assert rows["trainees"]
    for trainee in rows["trainees"]:
        assert trainee["org_id"] in org_ids
        assert date(2021, 3, 1) <= trainee["start"] <= date(2022, 3, 31)
        assert 1 <= trainee["months"] <= 10
    benefits = {"employment_base_reward", "one_time_hiring_subsidy", "incubator_reward"}
    assert all(entry["benefit"] in benefits for entry in rows["org_received"])
    assert all(1 <= entry["units"] <= 10 for entry in rows["org_received"])


def test_nulls_in_absorbed_counts_at_scale(tmp_path: Path) -> None:
    write_population(tmp_path, 0, 5_000, seed=3)
    orgs = pq.read_table(tmp_path / "organizations.parquet")
    assert orgs.column("absorbed_poverty_alleviated").null_count > 0
    assert pq.read_table(tmp_path / "persons.parquet").num_rows == 0
    bases = orgs.filter(orgs.column("recognized_base")).to_pylist()
    near_threshold = [
        b
        for b in bases
        if b["absorbed_poverty_alleviated"] is not None
        and b["absorbed_edge_of_poverty"] is not None
        and 40 <= b["absorbed_poverty_alleviated"] + b["absorbed_edge_of_poverty"] <= 70
    ]
    assert len(near_threshold) > 0.4 * len(bases)


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    write_population(tmp_path / "a", 300, 20, seed=11)
    write_population(tmp_path / "b", 300, 20, seed=11)
    write_population(tmp_path / "c", 300, 20, seed=12)
    first, second, other = read_all(tmp_path / "a"), read_all(tmp_path / "b"), read_all(tmp_path / "c")
    for name in EXPECTED_SCHEMAS:
        assert first[name].equals(second[name]), name
    assert not first["persons"].equals(other["persons"])


def test_chunks_join_into_one_table(tmp_path: Path) -> None:
    counts = write_population(tmp_path, 1_050, 25, chunk_size=200)
    persons = pq.read_table(tmp_path / "persons.parquet")
    assert counts["persons"] == 1_050
    assert persons.column("person_id").to_pylist() == list(range(1, 1_051))
    assert len(set(persons.column("id_number").to_pylist())) > 1_000
    spell_owners = set(pq.read_table(tmp_path / "employment.parquet").column("person_id").to_pylist())
    assert max(spell_owners) > 1_000


def test_rejects_negative_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_population(tmp_path, -1, 0)
