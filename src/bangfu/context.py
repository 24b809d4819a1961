"""The composition root: what one CLI command or one web app works with, built from ``Settings``.

A ``Context`` holds the database engine, the session factory and the policy set. It is the one place
that creates an engine from settings; services take a connection, a session or the policy set from
it, never a URL. Lifecycle (docs/adr/0017-composition-root.md): a CLI command opens one context and
closes it when it ends; a web app opens one in ``create_app``, keeps it on ``app.state.context`` and
closes it when the app shuts down.

The engine and the policy set are built on first use: ``bangfu policy evaluate case.json`` never
touches a database, and connecting to a SQLite URL would create its file.

``documents`` is the policy files (the set given, else the bundled one); ``policies`` is what every
evaluation uses: those files, the programme packages a province administrator activated and the
standards cities and counties set, read from the database (ADR 0023). It is rebuilt when the stored
state changes: a small query compares the newest row ids (and the packages' files their hashes) at
most once a second (``STATE_TTL``), and at
once after this process saved a change (``stored_state_changed``), so a standard saved by one web
worker is used by every other within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bangfu.policy.local_standards import overlay
from bangfu.policy.policy_set import PolicySet
from bangfu.policy_admin import activation, local_standards, stored_state
from bangfu.settings import Settings
from bangfu.store.db import make_engine, make_sessionmaker, sqlite_file

# A web app's pool. PostgreSQL: enough for the worker's thread pool under load. SQLite: as many
# connections as the thread pool has threads (40), since a thread waiting for the file's write lock
# holds its connection meanwhile, and fewer would add a second queue with its own timeout.
# How long a built policy set is used before the database is asked whether standards or activations
# changed: the API's evaluations are sub-millisecond and should not each pay a query.
STATE_TTL = 1.0
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
        self._state_lock = threading.Lock()
        self._state: tuple[object, PolicySet] | None = None
        self._checked_at = -float("inf")

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
    def documents(self) -> PolicySet:
        """The policy files: the set given, else every bundled document (no database read)."""
        return self._policies if self._policies is not None else PolicySet.bundled()

    @property
    def policy_dir(self) -> Path | None:
        """The folder of programme packages; none when a set was given (``--policy X`` and tests name theirs)."""
        return self.settings.policy_dir if self._policies is None else None

    @property
    def policies(self) -> PolicySet:
        """The set every evaluation uses: the files, the active packages and the stored local standards."""
        state = self._state
        if state is not None and time.monotonic() - self._checked_at < STATE_TTL:
            return state[1]
        with self._state_lock, self.engine.connect() as connection:
            # Packages are files: one edited on disk after its activation must drop out (ADR 0023).
            version = (stored_state.version(connection), activation.fingerprint(self.policy_dir))
            if self._state is None or self._state[0] != version:
                files = activation.active_set(connection, self.documents, self.policy_dir)
                self._state = (version, overlay(files, local_standards.stored(connection)))
            self._checked_at = time.monotonic()
            return self._state[1]

    def stored_state_changed(self) -> None:
        """This process saved a standard or an activation: the next use asks the database again."""
        self._checked_at = -float("inf")

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
