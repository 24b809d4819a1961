"""unit_of_work commits or rolls back as a whole; SQLite connections get their pragmas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import store_support as support
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from bangfu.store.db import make_engine, make_sessionmaker, unit_of_work
from bangfu.store.tables import Household


def count(engine: Engine, number: str) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).where(Household.household_number == number)) or 0


@pytest.fixture
def household_numbers(engine: Engine) -> Iterator[list[str]]:
    """Household numbers a test committed, deleted afterwards so the shared database stays clean."""
    numbers: list[str] = []
    yield numbers
    with engine.begin() as connection:
        connection.execute(delete(Household).where(Household.household_number.in_(numbers)))


def test_commits_when_the_block_ends(engine: Engine, household_numbers: list[str]) -> None:
    row = support.household()
    household_numbers.append(row.household_number)
    with unit_of_work(make_sessionmaker(engine)) as session:
        session.add(row)
    assert count(engine, row.household_number) == 1
    assert row.id is not None  # still readable after the session closed (expire_on_commit=False)


def test_rolls_back_on_error(engine: Engine, household_numbers: list[str]) -> None:
    first, second = support.household(), support.household()
    household_numbers += [first.household_number, second.household_number]
    with pytest.raises(RuntimeError, match="中途失败"), unit_of_work(make_sessionmaker(engine)) as session:
        session.add_all([first, second])
        session.flush()  # both rows reached the database inside the transaction
        raise RuntimeError("中途失败")
    assert count(engine, first.household_number) == count(engine, second.household_number) == 0


def test_rolls_back_earlier_rows_on_integrity_error(engine: Engine, household_numbers: list[str]) -> None:
    good = support.household()
    household_numbers.append(good.household_number)
    with pytest.raises(IntegrityError), unit_of_work(make_sessionmaker(engine)) as session:
        session.add(good)
        session.flush()
        session.add(support.household(household_number=good.household_number))
        session.flush()
    assert count(engine, good.household_number) == 0


def test_sqlite_file_folder_is_created_and_pragmas_set(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'new' / 'bangfu.db').as_posix()}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
    assert (tmp_path / "new" / "bangfu.db").is_file()
