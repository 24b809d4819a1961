"""A synthetic population through the registry and back: ``bangfu synth --database`` loads it, the
export reads it out as the engine's Parquet tables, and the engine decides exactly as it does on the
Parquet that ``write_population`` wrote for the same seed. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, func, insert, select
from typer.testing import CliRunner, Result

from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.cli import app
from bangfu.core import citizen_id
from bangfu.core.disclosure import masked_id_number
from bangfu.policy.batch_run import evaluate_population
from bangfu.policy.case import parse_case
from bangfu.policy.engine import evaluate_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.loader import load_bundled
from bangfu.policy.policy_set import PolicySet
from bangfu.registry.population_export import export_population, fact_schemas
from bangfu.registry.stored_cases import stored_case
from bangfu.store.db import make_engine
from bangfu.store.tables import (
    BenefitLedgerEntry,
    EmploymentSpell,
    Household,
    Organization,
    OrganizationRecognition,
    OrganizationTrainee,
    Person,
    PersonCategory,
    TrainingRecord,
)
from database_servers import connection_to
from document_copies import TRANSPORT, cross_exclusion, derived_document

PERSONS, ORGANIZATIONS, SEED, YEAR = 1500, 150, 7, 2024
# The first and last day of the data year, and one in between: categories and recognitions hold all year.
DAYS = (dt.date(2024, 1, 1), dt.date(2024, 6, 30), dt.date(2024, 12, 31))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line(text: str) -> str:
    return "".join(text.split())  # the console wraps long lines


@pytest.fixture(scope="module")
def loaded(empty_database: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A registry filled by the CLI (and the Parquet it wrote on the way), once per back end."""
    result = invoke("init", "--database", empty_database)
    assert result.exit_code == 0, result.output
    parquet = tmp_path_factory.mktemp("synth")
    result = invoke(
        "synth",
        *("--persons", str(PERSONS), "--organizations", str(ORGANIZATIONS), "--seed", str(SEED)),
        *("--database", empty_database, "--out", str(parquet)),
    )
    assert result.exit_code == 0, result.output
    assert "已写入数据库" in result.stdout
    return empty_database, parquet


@pytest.fixture(scope="module")
def engine(loaded: tuple[str, Path]) -> Iterator[Engine]:
    engine = make_engine(loaded[0])
    yield engine
    engine.dispose()


def count(engine: Engine, model: Any, *where: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def rows(parquet: Path, table: str) -> int:
    return int(pq.ParquetFile(parquet / f"{table}.parquet").metadata.num_rows)


# ---------------------------------------------------------------- loading


def test_counts_match_the_parquet(loaded: tuple[str, Path], engine: Engine) -> None:
    _, parquet = loaded
    assert count(engine, Person) == PERSONS
    assert count(engine, Organization) == ORGANIZATIONS
    assert count(engine, EmploymentSpell) == rows(parquet, "employment")
    assert count(engine, TrainingRecord) == rows(parquet, "training")
    assert count(engine, OrganizationTrainee) == rows(parquet, "trainees")
    assert count(engine, BenefitLedgerEntry) == rows(parquet, "received") + rows(parquet, "org_received")
    held = sum(len(c) for c in pq.read_table(parquet / "persons.parquet")["categories"].to_pylist())
    assert count(engine, PersonCategory, PersonCategory.end_date.is_(None)) == held
    bases = sum(pq.read_table(parquet / "organizations.parquet")["recognized_base"].to_pylist())
    open_base = (OrganizationRecognition.recognition == "employment_base", OrganizationRecognition.end_date.is_(None))
    assert count(engine, OrganizationRecognition, *open_base) == bases


def test_households_group_one_county(engine: Engine) -> None:
    with engine.connect() as connection:
        members = connection.execute(
            select(Household.id, Household.region_code, Person.hukou_region, Person.id_number).join(
                Person, Person.household_id == Household.id
            )
        ).all()
        roster = connection.execute(select(Household.id, Household.member_count, Household.head_id_number)).all()
    sizes = Counter(household for household, *_ in members)
    assert len(members) == PERSONS  # everyone belongs to a household
    assert set(sizes.values()) <= {1, 2, 3, 4, 5}
    assert all(region == hukou for _, region, hukou, _ in members)
    assert {household: size for household, size, _ in roster} == dict(sizes)
    heads = {(household, number) for household, _, _, number in members}
    assert all((household, head) in heads for household, _, head in roster)


def test_identity_facts_agree_with_id_numbers(engine: Engine) -> None:
    # The bulk path skips the ORM's identity check; the generator must make it hold by construction.
    with engine.connect() as connection:
        people = connection.execute(select(Person.id_number, Person.birth_date, Person.sex)).all()
    assert len({number for number, _, _ in people}) == PERSONS
    for number, born, sex in people:
        checked = citizen_id.check(number)
        assert checked.valid, (number, checked.reason)
        assert (checked.birth_date, checked.sex) == (born, sex)


def test_periods_before_the_data_year_are_closed(engine: Engine) -> None:
    year_start = dt.date(YEAR, 1, 1)
    with engine.connect() as connection:
        late = connection.scalar(select(func.count()).where(PersonCategory.start_date > year_start))
        lapsed = connection.execute(
            select(PersonCategory.start_date, PersonCategory.end_date).where(PersonCategory.end_date.is_not(None))
        ).all()
    assert late == 0
    assert lapsed, "the load adds lapsed monitoring periods, to exercise the date filter"
    assert all(start <= end < year_start for start, end in lapsed)


def test_second_load_is_refused_without_append(loaded: tuple[str, Path], engine: Engine) -> None:
    result = invoke("synth", "--persons", "10", "--organizations", "1", "--database", loaded[0])
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert f"已有{PERSONS:,}人、{ORGANIZATIONS:,}个单位" in message
    assert "未写入任何数据" in message
    assert "--append" in message
    assert count(engine, Person) == PERSONS


def test_append_takes_new_ids_and_new_id_numbers(fresh_database: str) -> None:
    for _ in range(2):  # the same seed twice: every ID number and credit code repeats and is redrawn
        result = invoke("synth", "--persons", "300", "--organizations", "20", "--database", fresh_database, "--append")
        assert result.exit_code == 0, result.output
    engine = make_engine(fresh_database)
    try:
        with engine.begin() as connection:
            numbers = connection.scalars(select(Person.id_number)).all()
            codes = connection.scalars(select(Organization.credit_code)).all()
            households = connection.scalar(select(func.count(func.distinct(Person.household_id))))
            assert connection.scalar(select(func.max(Person.id))) == 600
        assert len(set(numbers)) == len(numbers) == 600
        assert len(set(codes)) == len(codes) == 40
        assert households == count(engine, Household)
        # The id generators continue after the bulk-assigned ids: an ordinary insert still works.
        with engine.begin() as connection:
            connection.execute(
                insert(Household).values(household_number="H-NEXT", region_code="141123", address="兴县")
            )
            assert connection.scalar(select(func.max(Household.id))) == households + 1
    finally:
        engine.dispose()


def test_load_needs_an_initialized_database(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"
    (tmp_path / "bangfu.db").touch()
    result = invoke("synth", "--persons", "10", "--database", url)
    assert result.exit_code == 2
    assert "尚未初始化" in one_line(result.stderr)
    assert "bangfuinit--database" in one_line(result.stderr)
    missing = invoke("policy", "population", "--database", f"sqlite:///{tmp_path}/none.db", "--date", "2024-06-30")
    assert missing.exit_code == 2
    assert "不存在" in one_line(missing.stderr)
    assert not (tmp_path / "none.db").exists()


# ---------------------------------------------------------------- exporting


def sorted_rows(table: pa.Table, columns: list[str]) -> list[dict[str, Any]]:
    picked = table.select(columns)
    if "categories" in columns:
        sorted_lists = [sorted(c) for c in picked["categories"].to_pylist()]
        picked = picked.set_column(
            columns.index("categories"), "categories", pa.array(sorted_lists, pa.list_(pa.string()))
        )
    return sorted(picked.to_pylist(), key=lambda row: json.dumps(row, default=str, sort_keys=True))


@pytest.fixture(scope="module")
def exported(loaded: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[dt.date, Path]:
    folders = {}
    for day in DAYS:
        folder = tmp_path_factory.mktemp(f"export-{day}")
        with connection_to(loaded[0]) as connection:
            result = export_population(connection, folder, day)
        assert result.rows["persons"] == PERSONS
        folders[day] = folder
    return folders


def netted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Receipts of one beneficiary, benefit and date as one, units added up (as the export nets them)."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple((k, v) for k, v in row.items() if k != "units")
        if key in merged:
            merged[key]["units"] += row["units"]
        else:
            merged[key] = dict(row)
    return sorted(merged.values(), key=lambda row: json.dumps(row, default=str, sort_keys=True))


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_exported_facts_equal_the_synthetic_parquet(
    loaded: tuple[str, Path], exported: dict[dt.date, Path], day: dt.date
) -> None:
    _, parquet = loaded
    for table, schema in fact_schemas().items():
        got = pq.read_table(exported[day] / f"{table}.parquet")
        assert got.schema == schema, table
        want = pq.read_table(parquet / f"{table}.parquet")
        got_rows, want_rows = sorted_rows(got, schema.names), sorted_rows(want, schema.names)
        if table in ("received", "org_received"):
            # The ledger nets entries of one beneficiary, benefit and date: a repeat is one receipt,
            # whose units are the sum of theirs.
            want_rows = netted(want_rows)
        assert got_rows == want_rows, table


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_engine_decides_alike_on_both(
    loaded: tuple[str, Path], exported: dict[dt.date, Path], day: dt.date, tmp_path: Path
) -> None:
    policy = load_bundled()
    outcomes = {}
    for name, folder in (("parquet", loaded[1]), ("database", exported[day])):
        backend = DuckDBBackend()
        try:
            evaluate_population(policy, backend, folder, day, out_dir=tmp_path / name)
        finally:
            backend.close()
        outcomes[name] = {
            entity: pq.read_table(tmp_path / name / f"{entity}_results.parquet").sort_by(key)
            for entity, key in (("person", "person_id"), ("organization", "org_id"))
        }
    for entity in ("person", "organization"):
        assert outcomes["database"][entity].equals(outcomes["parquet"][entity]), entity
    granted = pc.sum(outcomes["database"]["person"]["transport_cross_province__amount_fen"]).as_py()
    assert granted, "the population exercises at least one paid benefit"


def test_policy_population_from_database(loaded: tuple[str, Path]) -> None:
    url, parquet = loaded
    day = "2024-06-30"
    from_database = invoke("policy", "population", "--from-database", "--database", url, "--date", day, "--json")
    from_parquet = invoke("policy", "population", "--data", str(parquet), "--date", day, "--json")
    assert from_database.exit_code == 0, from_database.output
    assert from_parquet.exit_code == 0, from_parquet.output
    got, want = json.loads(from_database.stdout), json.loads(from_parquet.stdout)
    assert got["export_seconds"] >= 0
    for key in ("entities", "benefits", "by_fund_fen", "by_region_fen"):
        assert got[key] == want[key], key
    table = invoke("policy", "population", "--database", url, "--date", day)
    assert table.exit_code == 0, table.output
    assert f"个人 {PERSONS:,} 个，评估日 {day}" in table.stdout
    assert "另从登记库导出" in table.stdout


def test_whatif_add_previews_a_programme_on_the_stored_population(loaded: tuple[str, Path], tmp_path: Path) -> None:
    """`policy whatif --add DIR --database URL`: the same preview as on the Parquet the registry was loaded from."""
    url, parquet = loaded
    programme = derived_document(
        tmp_path,
        "test-programme",
        level="city",
        region="1411",
        valid_from="2024-01-01",
        valid_to="2026-12-31",
        only=TRANSPORT,
        cross_exclusions=[
            cross_exclusion(
                "one_cross_province_subsidy",
                ["test-programme:transport_cross_province", "shanxi-2021:transport_cross_province"],
                "calendar_year",
            )
        ],
    )
    args = ["policy", "whatif", "--date", "2024-06-30", "--policy", "shanxi-2021", "--add", str(programme), "--json"]
    from_database = invoke(*args, "--database", url)
    from_parquet = invoke(*args, "--data", str(parquet))
    assert from_database.exit_code == 0, from_database.output
    assert from_parquet.exit_code == 0, from_parquet.output
    got, want = json.loads(from_database.stdout), json.loads(from_parquet.stdout)
    assert got == want
    assert got["added"]["by_fund_fen"]["revitalization"] > 0
    assert {o["benefit"] for o in got["others"]} == {"transport_cross_province"}


def test_population_needs_one_source(loaded: tuple[str, Path]) -> None:
    both = invoke("policy", "population", "--data", str(loaded[1]), "--from-database", "--date", "2024-06-30")
    neither = invoke("policy", "population", "--date", "2024-06-30")
    for result in (both, neither):
        assert result.exit_code == 2
        assert "请二选一" in one_line(result.stderr)


# ---------------------------------------------------------------- single cases from the registry


@pytest.mark.parametrize("day", DAYS[1:2], ids=str)
def test_a_registered_case_is_decided_as_in_the_population_run(
    loaded: tuple[str, Path], exported: dict[dt.date, Path], engine: Engine, day: dt.date, tmp_path: Path
) -> None:
    """Every sampled person and organization read on its own gives the population run's verdicts."""
    policy = load_bundled()
    backend = DuckDBBackend()
    try:
        evaluate_population(policy, backend, exported[day], day, out_dir=tmp_path)
    finally:
        backend.close()
    checked = Counter[str]()
    with engine.connect() as connection:
        for entity, key in (("person", "person_id"), ("organization", "org_id")):
            results = pq.read_table(tmp_path / f"{entity}_results.parquet").sort_by(key).to_pylist()
            for row in results[:: max(1, len(results) // 40)]:
                case = stored_case(connection, entity, row[key], day)
                decided = evaluate_case(policy, parse_case(case))
                for benefit in decided["benefits"]:
                    bid = benefit["id"]
                    assert benefit["status"] == row[f"{bid}__status"], (entity, row[key], bid, case)
                    assert (benefit["amount_fen"] or 0) == row[f"{bid}__amount_fen"], (entity, row[key], bid, case)
                    checked[benefit["status"]] += 1
    assert checked["granted"] and checked["not_eligible"], checked


def test_policy_evaluate_a_registered_person(loaded: tuple[str, Path], engine: Engine) -> None:
    url, _ = loaded
    with engine.connect() as connection:
        number = connection.scalar(
            select(Person.id_number).join(EmploymentSpell, EmploymentSpell.person_id == Person.id).limit(1)
        )
        key = connection.scalar(select(Person.id).where(Person.id_number == number))
        expected = stored_case(connection, "person", int(key or 0), dt.date(2024, 6, 30))
    assert number is not None and expected["person"]["employment"]
    written = number[:-1] + number[-1].lower() if number.endswith("X") else f" {number} "
    result = invoke("policy", "evaluate", "--id-number", written, "--date", "2024-06-30", "--database", url)
    assert result.exit_code == 0, result.output
    # the command answers with every bundled document covering the person's place (ADR 0020)
    assert json.loads(result.stdout) == evaluate_all(PolicySet.bundled(), parse_case(expected))
    table = invoke("policy", "evaluate", "--id-number", number, "--date", "2024-06-30", "--database", url, "--table")
    assert table.exit_code == 0, table.output
    assert number not in table.stdout and masked_id_number(number) in one_line(table.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--id-number", "110101199003074514"), "没有登记身份证号为1101************14的人员"),
        (("--id-number", "110101199003074515"), "校验位错误"),
        (("--credit-code", "91140000MA0000000X"), "没有登记统一社会信用代码为91140000MA0000000X的单位"),
        (("--id-number", "110101199003074514", "--date", "2024-13-01"), "不是有效日期"),
        ((), "请给出且只给出一个案例来源"),
        (("case.json", "--id-number", "110101199003074514"), "请给出且只给出一个案例来源"),
    ],
)
def test_policy_evaluate_from_the_registry_refuses_bad_input(
    loaded: tuple[str, Path], args: tuple[str, ...], message: str
) -> None:
    result = invoke("policy", "evaluate", *args, "--database", loaded[0])
    assert result.exit_code == 2
    assert message in one_line(result.stderr)
