"""Test databases on the PostgreSQL server where CI runs (127.0.0.1:5432, trust authentication).

A fresh database per use, created and dropped through the server's ``postgres`` maintenance database
named by BANGFU_TEST_POSTGRES_URL. Without a reachable server the test skips with the reason.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bangfu.settings import Settings
from bangfu.store.db import make_engine
from bangfu.store.migrate import UpgradeResult, upgrade

POSTGRES_SERVER = os.environ.get("BANGFU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")


def postgres_database() -> Iterator[str]:
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


def migrate(url: str, key_counties: Iterable[str] | None = None) -> UpgradeResult:
    """``bangfu init`` on ``url``: the schema migrated and the regions seeded, in one transaction."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            return upgrade(connection, key_counties)
    finally:
        engine.dispose()


@contextmanager
def connection_to(url: str) -> Iterator[Connection]:
    """A connection (not in a transaction) on an engine of its own, disposed afterwards."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def settings_for(url: str, **changes: Any) -> Settings:
    """The settings of this environment, on the database at ``url`` (what ``--database`` does)."""
    return dataclasses.replace(Settings.from_env(), database_url=url, **changes)
