"""Alembic migrations and region seeding, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from store_support import Migrated

from bangfu.core import regions
from bangfu.policy.loader import load_bundled
from bangfu.store.db import make_engine
from bangfu.store.migrate import alembic_config, current_revision, head_revision
from bangfu.store.tables import Base, Region
from database_servers import migrate

TABLES = {
    "person_year_facts",
    "regions",
    "households",
    "persons",
    "person_categories",
    "organizations",
    "organization_recognitions",
    "employment_spells",
    "training_records",
    "benefit_ledger",
    "import_batches",
    "organization_trainees",
    "import_changes",
}


def region_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(Region).order_by(Region.code))]


def test_first_upgrade_reaches_head_and_seeds(migrated: Migrated, engine: Engine) -> None:
    assert head_revision() == "0014"
    assert migrated.first_upgrade.revision == head_revision()
    assert (migrated.first_upgrade.regions.inserted, migrated.first_upgrade.regions.updated) == (1515, 0)
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_upgrade_twice_is_idempotent(migrated: Migrated, engine: Engine) -> None:
    before = region_rows(engine)
    for _ in range(2):
        again = migrate(migrated.url)
        assert again.revision == head_revision()
        assert (again.regions.total, again.regions.inserted, again.regions.updated) == (1515, 0, 0)
    assert region_rows(engine) == before


def test_head_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_regions_seeded(engine: Engine) -> None:
    with engine.connect() as connection:
        levels = Counter(dict(connection.execute(select(Region.level, func.count()).group_by(Region.level)).all()))
        key = set(connection.scalars(select(Region.code).where(Region.key_county)))
        statistics_only = set(connection.scalars(select(Region.code).where(Region.statistics_only)))
        orphans = connection.scalar(
            select(func.count()).select_from(Region).where(Region.level != "province", Region.parent_code.is_(None))
        )
        townships_of_xing = connection.scalar(select(func.count()).where(Region.parent_code == "141123"))
    assert levels == {"province": 31, "city": 11, "county": 121, "township": 1352}
    assert key == set(load_bundled().key_counties) == set(regions.DEMO_KEY_COUNTIES)
    assert len(key) == 10
    assert statistics_only == regions.STATISTICS_ONLY_ZONES
    assert orphans == 0
    assert townships_of_xing == len(regions.townships_of("141123"))


def test_key_county_edits_survive_upgrade(migrated: Migrated, engine: Engine) -> None:
    # key_county is an administrator's configuration: re-seeding must not put the demo list back.
    try:
        with engine.begin() as connection:
            connection.execute(update(Region).where(Region.code == "140105").values(key_county=True))
            connection.execute(update(Region).where(Region.code == "141123").values(key_county=False))
        migrate(migrated.url)
        with engine.connect() as connection:
            flags = dict(
                connection.execute(
                    select(Region.code, Region.key_county).where(Region.code.in_(["140105", "141123"]))
                ).all()
            )
        assert flags == {"140105": True, "141123": False}
    finally:
        with engine.begin() as connection:
            connection.execute(update(Region).where(Region.code == "140105").values(key_county=False))
            connection.execute(update(Region).where(Region.code == "141123").values(key_county=True))


def test_outdated_reference_facts_are_refreshed(migrated: Migrated, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(update(Region).where(Region.code == "141123").values(name="兴 县", parent_code="1410"))
    result = migrate(migrated.url)
    assert (result.regions.inserted, result.regions.updated) == (0, 1)
    with engine.connect() as connection:
        row = connection.execute(select(Region.name, Region.parent_code).where(Region.code == "141123")).one()
    assert tuple(row) == ("兴县", "1411")


def test_downgrade_to_base_and_back(migrated: Migrated, engine: Engine) -> None:
    config = alembic_config(migrated.url)
    command.downgrade(config, "base")
    with engine.connect() as connection:
        assert current_revision(connection) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    assert migrate(migrated.url).regions.inserted == 1515
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()


QUERY = "SELECT id_number, labor_capacity FROM persons"
SET_CAPACITY = "UPDATE persons SET labor_capacity = :capacity WHERE id_number = :number"


def test_0006_moves_labour_capacity_to_the_national_vocabulary(fresh_database: str) -> None:
    config = alembic_config(fresh_database)
    command.downgrade(config, "0005")
    engine = make_engine(fresh_database)
    try:
        old = {"141123198001011231": "full", "141123198001011258": "weak", "141123198001011274": "half"}
        with engine.begin() as connection:
            for number, capacity in old.items():
                connection.execute(
                    text(
                        "INSERT INTO persons (id_number, name, sex, birth_date, hukou_region, labor_capacity) "
                        "VALUES (:number, '张三', 'male', '1980-01-01', '141123', :capacity)"
                    ),
                    {"number": number, "capacity": capacity},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            moved = {number: capacity for number, capacity in connection.execute(text(QUERY))}
        assert moved == dict(zip(old, ("ordinary", "weak", "weak"), strict=True))
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE persons SET labor_capacity = 'lost' WHERE id_number = '141123198001011231'")
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text("UPDATE persons SET labor_capacity = 'full' WHERE id_number = '141123198001011258'")
            )
    finally:
        engine.dispose()


def test_0007_ledger_units_are_unknown_for_older_entries(fresh_database: str) -> None:
    config = alembic_config(fresh_database)
    command.downgrade(config, "0006")
    engine = make_engine(fresh_database)
    try:
        assert "units" not in {c["name"] for c in inspect(engine).get_columns("benefit_ledger")}
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO persons (id_number, name, sex, birth_date, hukou_region) "
                    "VALUES ('141123198001011231', '张三', 'male', '1980-01-01', '141123')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO benefit_ledger (person_id, benefit_id, date, amount_fen, source) "
                    "SELECT id, 'training_living_allowance', '2024-02-01', 15000, '测试' FROM persons"
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            units = connection.execute(text("SELECT units FROM benefit_ledger")).scalars().all()
        assert units == [None]  # how many days that payment covered is not known: never read as 0
    finally:
        engine.dispose()


def test_0010_back_fills_the_name_index(fresh_database: str) -> None:
    config = alembic_config(fresh_database)
    command.downgrade(config, "0008")
    engine = make_engine(fresh_database)
    try:
        assert "person_name_terms" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            for number, name, county in (
                ("141123198001011231", "曾国华", "141123"),
                ("141124198001011231", "李华", "141124"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO persons (id_number, name, sex, birth_date, hukou_region) "
                        "VALUES (:number, :name, 'male', '1980-01-01', :county)"
                    ),
                    {"number": number, "name": name, "county": county},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            sorts = dict(connection.execute(text("SELECT name, name_sort FROM persons")).all())
            terms = connection.execute(
                text(
                    "SELECT t.term, t.hukou_region FROM person_name_terms t JOIN persons p ON p.id = t.person_id "
                    "WHERE p.name = '曾国华' ORDER BY t.term"
                )
            ).all()
        assert sorts == {"曾国华": "zeng1guo2hua2", "李华": "li3hua2"}
        assert [term for term, _ in terms] == sorted(["cg", "cgh", "zg", "zgh", "国", "华", "曾"])
        assert {county for _, county in terms} == {"141123"}
    finally:
        engine.dispose()
