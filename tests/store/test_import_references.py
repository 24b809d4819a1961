"""Foreign keys checked once per import on PostgreSQL (``upsert.references``, ADR 0036).

An import's COPYs skip PostgreSQL's per-row foreign-key triggers and the references are verified
set-based before commit. These tests show it keeps the guarantee: a dangling reference still rolls the
import back, the referenced rows are locked as the triggers would lock them, an account that may not
skip triggers imports as before, and SQLite is left alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from national_support import SAMPLE
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bangfu.registry.imports.importer import import_file
from bangfu.registry.imports.upsert.bulk_io import insert_rows
from bangfu.registry.imports.upsert.references import (
    DanglingReferenceError,
    defer_reference_checks,
    deferred,
)
from bangfu.store.db import make_engine
from bangfu.store.tables import Household, Person, PersonCategory, PersonYearFacts


def _person_row(person_id: int, household_id: int | None, county: str = "141123") -> tuple[object, ...]:
    id_number = f"14112319800101{person_id % 1000:03d}X"
    return (person_id, id_number, "张三", "male", "1980-01-01", county, household_id)


PERSON_COLUMNS = ("id", "id_number", "name", "sex", "birth_date", "hukou_region", "household_id")


def _next_person_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.coalesce(func.max(Person.id), 0))) or 0) + 1000


@pytest.fixture
def postgresql_registry(registry: Engine) -> Engine:
    if registry.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite checks foreign keys per row without triggers (cheap index probes)")
    return registry


def test_a_dangling_reference_written_by_copy_rolls_the_import_back(postgresql_registry: Engine) -> None:
    engine = postgresql_registry
    person_id = _next_person_id(engine)
    with (
        pytest.raises(DanglingReferenceError, match=r"persons\.household_id → households: 1"),
        engine.begin() as connection,
        defer_reference_checks(connection) as references,
    ):
        assert references is not None and deferred(connection) is references
        insert_rows(connection, Person.__table__, PERSON_COLUMNS, [_person_row(person_id, 987_654_321)])
        # The COPY itself went through: the per-row trigger did not run.
        assert connection.scalar(select(func.count()).where(Person.id == person_id)) == 1
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).where(Person.id == person_id)) == 0
        assert deferred(connection) is None


def test_without_deferral_the_trigger_refuses_at_once(postgresql_registry: Engine) -> None:
    engine = postgresql_registry
    # insert_rows writes through the driver's COPY: its error is the driver's.
    with pytest.raises(psycopg.errors.ForeignKeyViolation), engine.begin() as connection:
        insert_rows(connection, Person.__table__, PERSON_COLUMNS, [_person_row(_next_person_id(engine), 987_654_321)])


def test_only_the_copy_runs_without_triggers(postgresql_registry: Engine) -> None:
    engine = postgresql_registry
    with engine.begin() as connection, defer_reference_checks(connection):
        assert connection.scalar(text("SHOW session_replication_role")) == "origin"
        insert_rows(connection, Person.__table__, PERSON_COLUMNS, [_person_row(_next_person_id(engine), None)])
        # Back to origin after the COPY: an UPDATE's foreign key is still checked by its trigger.
        assert connection.scalar(text("SHOW session_replication_role")) == "origin"
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(
                text("UPDATE persons SET household_id = 987654321 WHERE id = (SELECT max(id) FROM persons)")
            )


def test_referenced_rows_are_locked_until_commit(postgresql_registry: Engine) -> None:
    engine = postgresql_registry
    url = engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")
    with engine.begin() as connection:
        with defer_reference_checks(connection) as references:
            insert_rows(
                connection, Person.__table__, PERSON_COLUMNS, [_person_row(_next_person_id(engine), None, "141124")]
            )
        assert references is not None and "persons" in references.written
        # The verification took FOR KEY SHARE on the county row, as the trigger would have: another
        # transaction cannot delete it or change its key before this one commits.
        with psycopg.connect(url, autocommit=True) as other, pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("SELECT 1 FROM regions WHERE code = '141124' FOR UPDATE NOWAIT")


@pytest.fixture
def limited_role(postgresql_registry: Engine) -> Iterator[Engine]:
    """An account that owns nothing and may not set ``session_replication_role``."""
    role = "bangfu_test_no_trigger_skip"
    with postgresql_registry.begin() as connection:
        connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.exec_driver_sql(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        connection.exec_driver_sql(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
    limited = make_engine(make_url(postgresql_registry.url).set(username=role))
    try:
        yield limited
    finally:
        limited.dispose()
        with postgresql_registry.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")


def test_an_account_that_may_not_skip_triggers_imports_as_before(
    limited_role: Engine, postgresql_registry: Engine, tmp_path: Path
) -> None:
    with limited_role.begin() as connection, defer_reference_checks(connection) as references:
        assert references is None
    sample = Path(shutil.copy(SAMPLE, tmp_path / "人口信息.xlsx"))
    report = import_file(limited_role, "people", sample, tmp_path)
    assert report.inserted > 0 and report.rejected == 0
    with postgresql_registry.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Person)) == report.inserted


def test_the_sample_imports_with_the_checks_deferred(postgresql_registry: Engine, tmp_path: Path) -> None:
    sample = Path(shutil.copy(SAMPLE, tmp_path / "人口信息.xlsx"))
    report = import_file(postgresql_registry, "people", sample, tmp_path)
    with postgresql_registry.connect() as connection:
        counted = {
            model.__tablename__: connection.scalar(select(func.count()).select_from(model))
            for model in (Person, Household, PersonCategory, PersonYearFacts)
        }
        assert connection.scalar(text("SHOW session_replication_role")) == "origin"
    assert counted["persons"] == report.inserted > 0
    assert counted["households"] and counted["person_categories"] and counted["person_year_facts"]


def test_sqlite_is_left_alone(registry: Engine) -> None:
    if registry.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with registry.begin() as connection, defer_reference_checks(connection) as references:
        assert references is None and deferred(connection) is None
