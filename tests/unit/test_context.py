"""The composition root: settings → engine, sessions and policy set, made on first use, closed once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bangfu.context import Context, web_pool
from bangfu.policy.policy_set import PolicySet
from bangfu.settings import Settings
from bangfu.store.db import unit_of_work


def settings(tmp_path: Path, url: str | None = None) -> Settings:
    return Settings(database_url=url or f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}", data_dir=tmp_path)


def test_nothing_is_made_before_it_is_used(tmp_path: Path) -> None:
    # `bangfu policy evaluate case.json` must not create the SQLite file of the default database
    with Context(settings(tmp_path)):
        pass
    assert not (tmp_path / "bangfu.db").exists()


def test_one_engine_per_context_disposed_on_close(tmp_path: Path) -> None:
    context = Context(settings(tmp_path))
    engine = context.engine
    assert context.engine is engine
    with unit_of_work(context.sessions) as session:
        assert session.get_bind().pool is engine.pool  # the same engine, with IMMEDIATE transactions
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    pool = engine.pool
    assert pool.checkedin() == 1  # the unit of work's connection, back in the pool
    context.close()
    assert pool.checkedin() == 0
    context.close()  # closing twice is harmless


def test_the_documents_are_the_set_given_or_the_bundled_one(tmp_path: Path) -> None:
    # the files alone; ``policies`` adds what the database holds (tests/store/test_local_standards_store.py)
    given = PolicySet.bundled()
    assert Context(settings(tmp_path), policies=given).documents is given
    context = Context(settings(tmp_path))
    assert context.documents is context.documents
    assert context.documents.default_id == "shanxi-2021"
    assert not (tmp_path / "bangfu.db").exists()


def test_a_web_app_pools_connections_for_its_threads(tmp_path: Path) -> None:
    assert web_pool(f"sqlite:///{tmp_path / 'a.db'}") == {"pool_size": 10, "max_overflow": 30}
    assert web_pool("sqlite://") == {}  # in memory: SQLAlchemy's own pool
    assert web_pool("postgresql+psycopg://bangfu@db/bangfu") == {"pool_size": 10, "max_overflow": 20}
    context = Context.for_web(settings(tmp_path))
    assert context.engine.pool.size() == 10
    context.close()
