"""What the export decides for the evaluation date: periods that hold on it (both ends included),
unknown facts kept unknown, ledger reversals netted. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from store_support import household, organization, person

from bangfu.registry.population_export import export_population
from bangfu.store.db import make_engine, make_sessionmaker, unit_of_work
from bangfu.store.tables import (
    BenefitLedgerEntry,
    EmploymentSpell,
    OrganizationRecognition,
    OrganizationTrainee,
    PersonCategory,
)
from database_servers import connection_to

DAY = dt.date(2024, 6, 30)
BEFORE, AFTER = DAY - dt.timedelta(days=1), DAY + dt.timedelta(days=1)
LONG_AGO = dt.date(2022, 1, 1)


def by_key(folder: Path, table: str, key: str) -> dict[int, dict[str, Any]]:
    return {row[key]: row for row in pq.read_table(folder / f"{table}.parquet").to_pylist()}


@pytest.fixture
def exported(fresh_database: str, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    engine = make_engine(fresh_database)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            home = household()
            session.add(home)
            session.flush()
            held, unknown = person(residence_region="141123", household_id=home.id), person(labor_capacity=None)
            # 特困 / 低保 are person facts, and make a person 农村低收入人口 (core/categories.py)
            # 风险消除日期: on the day (known), after it (not yet, so NULL in the export)
            supported = person(extreme_poverty_support=True, minimum_living_allowance=False, risk_removed_on=DAY)
            listed = person(minimum_living_allowance=True, risk_removed_on=AFTER)
            base, lapsed, plain = organization(kind="workshop"), organization(), organization()
            session.add_all([held, unknown, supported, listed, base, lapsed, plain])
            session.flush()
            session.add_all(
                [
                    PersonCategory(person_id=held.id, category="poverty_alleviated", start_date=DAY),
                    PersonCategory(person_id=held.id, category="monitored", start_date=LONG_AGO, end_date=DAY),
                    PersonCategory(person_id=held.id, category="edge_of_poverty", start_date=LONG_AGO, end_date=BEFORE),
                    PersonCategory(person_id=held.id, category="relocated", start_date=AFTER),
                    PersonCategory(person_id=listed.id, category="rural_low_income", start_date=LONG_AGO),
                    EmploymentSpell(
                        person_id=held.id, employer_name="兴农服饰有限公司", work_region="440305", start_date=LONG_AGO
                    ),
                    OrganizationRecognition(
                        org_id=base.id, recognition="employment_base", start_date=LONG_AGO, end_date=DAY
                    ),
                    OrganizationRecognition(org_id=base.id, recognition="workshop", start_date=LONG_AGO),
                    OrganizationRecognition(
                        org_id=lapsed.id, recognition="employment_base", start_date=LONG_AGO, end_date=BEFORE
                    ),
                    OrganizationRecognition(org_id=plain.id, recognition="employment_base", start_date=AFTER),
                    OrganizationTrainee(org_id=base.id, start_date=LONG_AGO, months=3),
                    *(
                        BenefitLedgerEntry(
                            person_id=who.id,
                            benefit_id=benefit,
                            date=day,
                            amount_fen=amount,
                            source="测试",
                            units=units,
                        )
                        for who, benefit, day, amount, units in (
                            (held, "transport_cross_province", dt.date(2024, 3, 1), 80_000, None),
                            (held, "transport_cross_province", dt.date(2024, 3, 1), -80_000, None),  # reversed in full
                            (held, "training_living_allowance", dt.date(2024, 2, 1), 15_000, 10),
                            (held, "training_living_allowance", dt.date(2024, 2, 1), -3_000, -2),  # 2 days taken back
                            (unknown, "transport_cross_province", dt.date(2024, 3, 1), 80_000, None),
                            (unknown, "transport_cross_province", dt.date(2024, 3, 1), -30_000, None),  # in part
                        )
                    ),
                    BenefitLedgerEntry(
                        org_id=lapsed.id,
                        benefit_id="one_time_hiring_subsidy",
                        date=LONG_AGO,
                        amount_fen=1,
                        source="测试",
                    ),
                ]
            )
            session.flush()
            ids = {"held": held.id, "unknown": unknown.id, "base": base.id, "lapsed": lapsed.id, "plain": plain.id}
            ids |= {"supported": supported.id, "listed": listed.id}
    finally:
        engine.dispose()
    with connection_to(fresh_database) as connection:
        result = export_population(connection, tmp_path / "export", DAY)
    assert result.rows["persons"] == 4
    return tmp_path / "export", ids


def test_categories_held_on_the_day(exported: tuple[Path, dict[str, int]]) -> None:
    folder, ids = exported
    persons = by_key(folder, "persons", "person_id")
    # Starting on the day and ending on it both count; ended the day before or starting after do not.
    assert sorted(persons[ids["held"]]["categories"]) == ["monitored", "poverty_alleviated"]
    assert persons[ids["unknown"]]["categories"] == []  # holds nothing: an empty list, not unknown
    assert persons[ids["supported"]]["categories"] == ["rural_low_income"]  # 特困供养人员
    assert persons[ids["listed"]]["categories"] == ["rural_low_income"]  # listed and 低保: once, not twice


def test_risk_removal_as_of_the_day(exported: tuple[Path, dict[str, int]]) -> None:
    """A removal on the day has happened; one recorded for a later day had not yet (NULL: not removed)."""
    folder, ids = exported
    persons = by_key(folder, "persons", "person_id")
    assert persons[ids["supported"]]["risk_removed_on"] == DAY
    assert persons[ids["listed"]]["risk_removed_on"] is None
    assert persons[ids["held"]]["risk_removed_on"] is None


def test_unknown_facts_stay_unknown(exported: tuple[Path, dict[str, int]]) -> None:
    folder, ids = exported
    persons = by_key(folder, "persons", "person_id")
    assert persons[ids["held"]]["region"] == "141123"
    assert persons[ids["unknown"]]["region"] is None
    assert persons[ids["unknown"]]["labor_capacity"] is None
    spell = pq.read_table(folder / "employment.parquet").to_pylist()
    assert spell == [
        {
            "person_id": ids["held"],
            "start": LONG_AGO,
            "end": None,  # still running
            "work_region": "440305",
            "organized_export": None,  # never recorded: unknown, not "no"
            "travel_cost_fen": None,
        }
    ]
    trainee = pq.read_table(folder / "trainees.parquet").to_pylist()
    assert trainee == [{"org_id": ids["base"], "start": LONG_AGO, "months": 3, "previously_subsidized": None}]
    organizations = by_key(folder, "organizations", "org_id")
    assert organizations[ids["plain"]]["absorbed_poverty_alleviated"] is None
    assert organizations[ids["plain"]]["operating_since"] is None


def test_recognized_base_on_the_day(exported: tuple[Path, dict[str, int]]) -> None:
    folder, ids = exported
    organizations = by_key(folder, "organizations", "org_id")
    assert organizations[ids["base"]]["recognized_base"] is True
    assert organizations[ids["base"]]["kind"] == "workshop"
    assert organizations[ids["lapsed"]]["recognized_base"] is False
    assert organizations[ids["plain"]]["recognized_base"] is False


def test_ledger_reversals_are_netted(exported: tuple[Path, dict[str, int]]) -> None:
    folder, ids = exported
    received = sorted(
        (row["person_id"], row["benefit"], row["date"], row["units"])
        for row in pq.read_table(folder / "received.parquet").to_pylist()
    )
    assert received == [
        (ids["held"], "training_living_allowance", dt.date(2024, 2, 1), 8),  # units netted like the amount
        (ids["unknown"], "transport_cross_province", dt.date(2024, 3, 1), None),
    ]
    org_received = pq.read_table(folder / "org_received.parquet").to_pylist()
    assert org_received == [
        {"org_id": ids["lapsed"], "benefit": "one_time_hiring_subsidy", "date": LONG_AGO, "units": None}
    ]
