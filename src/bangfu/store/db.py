"""Engine, sessions and the unit of work, from a database URL."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def display_url(url: str | URL) -> str:
    """The URL as it may be printed or logged: the password, if any, shown as ***."""
    return make_url(url).render_as_string(hide_password=True)


def stored_utc(moment: dt.datetime) -> dt.datetime:
    """A moment read back from a DateTime(timezone=True) column, in UTC: SQLite returns it naive, and
    everything Bangfu writes is UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(database)


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another back end."""
    parsed = make_url(url)
    return _sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None


# How long a SQLite statement waits for another connection's write lock before failing with
# "database is locked". Write transactions are short (milliseconds), but under a burst of sign-ins
# dozens queue behind each other: an answer a few seconds late is better than a 500.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option naming how a SQLite transaction begins: "IMMEDIATE" for units of work that may write.
SQLITE_BEGIN = "sqlite_begin"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite opens transactions only before DML and never for DDL or SAVEPOINT, which breaks
        # atomic migrations and nested transactions; take over BEGIN ourselves (SQLAlchemy's
        # documented recipe for SQLite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Off by default in SQLite, for every new connection: without it FOREIGN KEY is decoration.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Readers no longer block the writer (and vice versa): the CLI and a web process share the file.
        cursor.execute("PRAGMA journal_mode=WAL")
        # Set explicitly rather than trusting pysqlite's 5 s default: see SQLITE_BUSY_TIMEOUT_MS. It only
        # helps a transaction that asks for the write lock at BEGIN (IMMEDIATE, below): a deferred one
        # that read first and then writes after another writer committed gets SQLITE_BUSY at once,
        # because its snapshot is stale and no amount of waiting can fix that.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    # SQLite's busy handler polls, sleeping up to 100 ms between tries: with dozens of threads waiting, a
    # newcomer takes the lock in its first millisecond while an old waiter sleeps, and some wait past
    # any timeout. Writers of this process therefore queue on a lock that wakes the next one at once;
    # the busy handler is left to arbitrate between processes (workers, the CLI).
    writers = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock at BEGIN, waiting (busy_timeout) for it, so that a unit of work
        # that reads and then writes (sign-in: count failures, then record the attempt) never meets
        # a stale snapshot. Read-only work (the API's autocommit reads, exports) keeps DEFERRED, so
        # that it neither waits for writers nor holds them up.
        if connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED") != "IMMEDIATE":
            connection.exec_driver_sql("BEGIN")
            return
        if not writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise TimeoutError(f"等待 SQLite 写锁超过 {SQLITE_BUSY_TIMEOUT_MS // 1000} 秒")
        connection.info[_HOLDS_WRITERS] = writers
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.info)
            raise

    # Whichever comes first ends the turn: the transaction's end, or the connection going back to the
    # pool or away (after an error that skipped the rollback), so that no path can keep the lock.
    for name in ("commit", "rollback"):
        event.listen(engine, name, lambda connection: _release(connection.info))
    for name in ("checkin", "invalidate", "soft_invalidate", "close", "detach"):
        event.listen(engine.pool, name, lambda _dbapi, record, *_rest: _release(record.info))


_HOLDS_WRITERS = "bangfu_holds_writers_lock"


def _release(info: dict[Any, Any]) -> None:
    writers = info.pop(_HOLDS_WRITERS, None)
    if writers is not None:
        writers.release()


def _create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600): it holds ID numbers and password hashes.

    SQLite gives its -wal and -shm files the mode of the database file, so they follow. An existing
    file keeps the mode its administrator chose.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)  # an empty file is a valid, empty SQLite database
    os.chmod(path, 0o600)  # the umask may have taken bits away, never added: this only makes it explicit


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url``; a missing SQLite file is created (with its folder) readable by its owner only.

    ``hide_parameters``: a database error's message (logged, or shown in a traceback) never carries the
    statement's values, which are ID numbers, names and phone numbers.
    """
    parsed = make_url(url)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            _create_private_file(path)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work: on SQLite their transactions begin IMMEDIATE, since they may write."""
    # expire_on_commit=False: objects read in a unit of work stay usable (e.g. rendered) after it ends.
    return sessionmaker(bind=engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}), expire_on_commit=False)


@contextmanager
def unit_of_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back when it raises."""
    with sessions() as session, session.begin():
        yield session


@contextmanager
def read_only_work(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads: on SQLite it begins DEFERRED, neither waiting for nor holding up writers."""
    with sessions() as session, session.begin():
        session.connection(execution_options={SQLITE_BEGIN: "DEFERRED"})
        yield session
