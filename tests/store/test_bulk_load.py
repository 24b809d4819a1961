"""The bulk load's guarantees beyond its rows: all or nothing, and on PostgreSQL the constraints and
indexes it sets aside come back exactly as they were. Also migration 0002 on a registry with rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select, text

from bangfu.store.counts import RegistryNotEmptyError
from bangfu.store.db import make_engine
from bangfu.store.migrate import alembic_config
from bangfu.store.tables import Base, Person
from bangfu.synth.population import write_population
from bangfu.synth.registry_load.load import LOADED_TABLES, load_population
from database_servers import connection_to, migrate


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("population")
    write_population(folder, 400, 40, seed=11)
    return folder


def catalog(connection: Connection) -> set[tuple[str, ...]]:
    constraints = connection.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace"
        )
    ).all()
    indexes = connection.execute(
        text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    )
    return {tuple(row) for row in constraints} | {tuple(row) for row in indexes}


def test_postgres_constraints_come_back_exactly(fresh_database: str, population: Path) -> None:
    if not fresh_database.startswith("postgresql"):
        pytest.skip("SQLite keeps its constraints during a load; nothing is set aside")
    engine = make_engine(fresh_database)
    try:
        with engine.connect() as connection:
            before = catalog(connection)
        with engine.connect() as connection:
            load_population(connection, population, seed=11, year=2024)
        with engine.connect() as connection:
            assert catalog(connection) == before
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_a_failed_load_leaves_nothing(fresh_database: str, population: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for table in ("persons", "employment", "training", "received", "organizations"):
        (broken / f"{table}.parquet").symlink_to(population / f"{table}.parquet")
    # trainees.parquet is missing: the load fails after persons and organizations went in.
    engine = make_engine(fresh_database)
    try:
        with engine.connect() as connection:
            before = catalog(connection) if connection.dialect.name == "postgresql" else set()
        with pytest.raises(FileNotFoundError), engine.connect() as connection:
            load_population(connection, broken, seed=11, year=2024)
        with engine.connect() as connection:
            for table in LOADED_TABLES:
                assert connection.scalar(text(f"SELECT count(*) FROM {table}")) == 0, table
            if connection.dialect.name == "postgresql":
                assert catalog(connection) == before
    finally:
        engine.dispose()
    # And the registry is still empty for a proper load.
    with connection_to(fresh_database) as connection:
        assert load_population(connection, population, seed=11, year=2024).rows["persons"] == 400
    with pytest.raises(RegistryNotEmptyError), connection_to(fresh_database) as connection:
        load_population(connection, population, seed=11, year=2024)


def test_migration_0002_keeps_rows(fresh_database: str) -> None:
    config = alembic_config(fresh_database)
    command.downgrade(config, "0001")
    engine = make_engine(fresh_database)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO persons (id, id_number, name, sex, birth_date, hukou_region) "
                    "VALUES (1, '14112319800101123X', '张三', 'male', '1980-01-01', '141123')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO person_categories (person_id, category, start_date) "
                    "VALUES (1, 'poverty_alleviated', '2019-12-31')"
                )
            )
        migrate(fresh_database)  # 0002 (and any later revision) with rows that refer to persons
        with engine.connect() as connection:
            row = connection.execute(select(Person.name, Person.birth_date, Person.residence_region)).one()
            assert tuple(row) == ("张三", dt.date(1980, 1, 1), None)
            assert connection.scalar(text("SELECT count(*) FROM person_categories")) == 1
            assert connection.scalar(select(func.count()).select_from(Person)) == 1
    finally:
        engine.dispose()
