"""unit_of_work commits or rolls back as a whole; SQLite connections get their pragmas."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import store_support as support
from sqlalchemy import Engine, delete, func, select, text
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


def test_sqlite_file_is_created_for_its_owner_only(tmp_path: Path) -> None:
    """The file holds ID numbers and password hashes: not world-readable, whatever the umask (review finding)."""
    path = tmp_path / "private" / "bangfu.db"
    previous = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{path.as_posix()}")
        try:
            with unit_of_work(make_sessionmaker(engine)) as session:
                session.execute(text("CREATE TABLE t (x INTEGER)"))
            with engine.connect():  # the -wal and -shm files exist while a connection is open
                modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        finally:
            engine.dispose()
    finally:
        os.umask(previous)
    assert modes == {"bangfu.db": 0o600, "bangfu.db-wal": 0o600, "bangfu.db-shm": 0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_database_errors_carry_no_parameter_values(engine: Engine, household_numbers: list[str]) -> None:
    """A logged or printed database error must not show the values of the statement (ID numbers, names)."""
    good = support.household(address="山西省兴县蔚汾镇某村 7 号")
    household_numbers.append(good.household_number)
    with pytest.raises(IntegrityError) as raised, unit_of_work(make_sessionmaker(engine)) as session:
        session.add(good)
        session.flush()
        session.add(support.household(household_number=good.household_number, address=good.address))
        session.flush()
    message = str(raised.value)
    assert "INSERT INTO households" in message
    assert good.household_number not in message.split("[SQL:", 1)[1]  # the statement's part names no value
    assert good.address not in message and "hide_parameters=True" in message


def test_parallel_units_of_work_that_read_then_write_all_succeed(engine: Engine, household_numbers: list[str]) -> None:
    """Twenty at once, each reading before it writes: on SQLite a deferred transaction would fail at once
    with "database is locked" when another committed between its read and its write."""
    rows = [support.household() for _ in range(20)]
    household_numbers.extend(row.household_number for row in rows)
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(len(rows), timeout=60)

    def read_then_write(row: Household) -> None:
        with unit_of_work(sessions) as session:
            start.wait()
            session.scalar(select(func.count()).select_from(Household))
            session.add(row)

    with ThreadPoolExecutor(len(rows)) as pool:
        list(pool.map(read_then_write, rows))
    assert all(count(engine, row.household_number) == 1 for row in rows)
