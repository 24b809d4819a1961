"""Database fixtures, parametrised over both back ends: a SQLite file and a PostgreSQL database.

PostgreSQL: a fresh database per test session on the server named by BANGFU_TEST_POSTGRES_URL
(default: postgres@127.0.0.1:5432 with trust authentication, as in CI), created and dropped through
its ``postgres`` maintenance database. Without a reachable server those tests skip with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scoped_registry import World, registry_database
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from store_support import Migrated, empty_registry

from bangfu.store.db import make_engine
from database_servers import BACKENDS, migrate, postgres_database


@pytest.fixture(scope="session", params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an empty database, one per back end and test session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "bangfu.db"
        yield f"sqlite:///{path.as_posix()}"
    else:
        yield from postgres_database()


@pytest.fixture(scope="session")
def migrated(empty_database: str) -> Migrated:
    backend = make_url(empty_database).get_backend_name()
    return Migrated(backend, empty_database, migrate(empty_database))


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
        migrate(url)
        yield url
        return
    databases = postgres_database()
    url = next(databases)
    try:
        migrate(url)
        yield url
    finally:
        databases.close()


@pytest.fixture
def registry(engine: Engine) -> Iterator[Engine]:
    """The session's database with an empty registry (regions stay), emptied again afterwards.

    For tests that commit (imports are one transaction of their own), so that they neither see nor
    leave rows of other tests. The audit log stays: it is append-only (its triggers refuse DELETE), and
    its chain must stay whole for the tests that verify it.
    """
    empty_registry(engine)
    yield engine
    empty_registry(engine)


@pytest.fixture(scope="module", params=BACKENDS)
def module_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of the test module's own: its ids and sequences are no other module's concern."""
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(tmp_path_factory.mktemp('own') / 'bangfu.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    migrate(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if hasattr(databases, "close"):
            databases.close()


# The small registry of scoped_registry.py (persons and organizations where scopes part), one database
# per test module and back end; each test works in a transaction rolled back afterwards.
@pytest.fixture(scope="module", params=BACKENDS)
def scoped_registry(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, World]]:
    with registry_database(request.param, tmp_path_factory.mktemp("scoped")) as database:
        yield database


@pytest.fixture
def world(scoped_registry: tuple[Engine, World]) -> Iterator[tuple[Connection, World]]:
    """A connection to the small registry, in a transaction rolled back afterwards (audit entries included)."""
    engine, registry = scoped_registry
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection, registry
        finally:
            transaction.rollback()
