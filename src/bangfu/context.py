"""The composition root: what one CLI command or one web app works with, built from ``Settings``.

A ``Context`` holds the database engine, the session factory and the policy set. It is the one place
that creates an engine from settings; services take a connection, a session or the policy set from
it, never a URL. Lifecycle (docs/adr/0017-composition-root.md): a CLI command opens one context and
closes it when it ends; a web app opens one in ``create_app``, keeps it on ``app.state.context`` and
closes it when the app shuts down.

The engine and the policy set are built on first use: ``bangfu policy evaluate case.json`` never
touches a database, and connecting to a SQLite URL would create its file.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bangfu.policy.policy_set import PolicySet
from bangfu.settings import Settings
from bangfu.store.db import make_engine, make_sessionmaker, sqlite_file

# A web app's pool. PostgreSQL: enough for the worker's thread pool under load. SQLite: as many
# connections as the thread pool has threads (40), since a thread waiting for the file's write lock
# holds its connection meanwhile, and fewer would add a second queue with its own timeout.
WEB_POOL = {"postgresql": {"pool_size": 10, "max_overflow": 20}, "sqlite": {"pool_size": 10, "max_overflow": 30}}


class Context:
    """Settings → engine, sessions and policy set, for one command or one web app; ``close`` ends it."""

    def __init__(
        self,
        settings: Settings,
        *,
        policies: PolicySet | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self._policies = policies
        self._engine_options = dict(engine_options or {})

    @classmethod
    def for_web(cls, settings: Settings, *, policies: PolicySet | None = None) -> Self:
        """A context whose engine pools connections for a web server's threads."""
        return cls(settings, policies=policies, engine_options=web_pool(settings.database_url))

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, **self._engine_options)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine)

    @cached_property
    def policies(self) -> PolicySet:
        return self._policies if self._policies is not None else PolicySet.bundled()

    def close(self) -> None:
        """Close the engine's pooled connections, if an engine was ever made (a later use opens new ones)."""
        engine: Engine | None = self.__dict__.get("engine")
        if engine is not None:
            engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def web_pool(database_url: str) -> dict[str, int]:
    """The pool options of a web app's engine (none for an in-memory SQLite database: it keeps SQLAlchemy's)."""
    if sqlite_file(database_url) is not None:
        return dict(WEB_POOL["sqlite"])
    return dict(WEB_POOL["postgresql"]) if "postgresql" in database_url else {}
