"""Database fixtures, parametrised over both back ends: a SQLite file and a PostgreSQL database.

PostgreSQL: a fresh database per test session on the server named by BANGFU_TEST_POSTGRES_URL
(default: postgres@127.0.0.1:5432 with trust authentication, as in CI), created and dropped through
its ``postgres`` maintenance database. Without a reachable server those tests skip with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from store_support import Migrated

from bangfu.store.db import make_engine
from bangfu.store.migrate import upgrade

POSTGRES_SERVER = os.environ.get("BANGFU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")


def _postgres_database() -> Iterator[str]:
    server = make_url(POSTGRES_SERVER)
    name = f"bangfu_test_{os.getpid()}_{secrets.token_hex(3)}"
    # AUTOCOMMIT: CREATE/DROP DATABASE cannot run inside a transaction.
    admin = create_engine(server, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except (OperationalError, ImportError) as exc:
        admin.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        shown = server.render_as_string(hide_password=True)
        pytest.skip(f"PostgreSQL 不可用：{reason}（{shown}；可用环境变量 BANGFU_TEST_POSTGRES_URL 指定）")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # FORCE (PostgreSQL 13+): a connection a failed test left open must not keep the database alive.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an empty database, one per back end and test session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "bangfu.db"
        yield f"sqlite:///{path.as_posix()}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def migrated(empty_database: str) -> Migrated:
    backend = make_url(empty_database).get_backend_name()
    return Migrated(backend, empty_database, upgrade(empty_database))


@pytest.fixture(scope="session")
def engine(migrated: Migrated) -> Iterator[Engine]:
    engine = make_engine(migrated.url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end; commits inside it become savepoints."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture(params=BACKENDS)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own at the newest schema, for a test that fills the registry."""
    if request.param == "sqlite":
        url = f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"
        upgrade(url)
        yield url
        return
    databases = _postgres_database()
    url = next(databases)
    try:
        upgrade(url)
        yield url
    finally:
        databases.close()


@pytest.fixture
def registry(engine: Engine) -> Iterator[Engine]:
    """The session's database with an empty registry (regions stay), emptied again afterwards.

    For tests that commit (imports are one transaction of their own), so that they neither see nor
    leave rows of other tests.
    """
    from bangfu.store.tables import Base

    def empty() -> None:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                if table.name != "regions":
                    connection.execute(table.delete())

    empty()
    yield engine
    empty()
