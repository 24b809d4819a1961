"""The hash-chained audit log on SQLite and PostgreSQL: appending, verifying, and catching tampering.

Tampering has to get past the append-only triggers first, as an attacker with the database owner's
rights could: drop them on SQLite, disable them on PostgreSQL. Both are DDL inside the test's
transaction, so they are rolled back with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bangfu.audit import log
from bangfu.audit.log import GENESIS_HASH, record, verify
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry, AuditHead

AT = dt.datetime(2024, 6, 30, 9, 0, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
def connection(session: Session) -> Iterator[Connection]:
    """The rolled-back test transaction's connection, with the audit chain's head row present.

    The shared ``registry`` fixture empties every table but regions, audit_head included; the head
    row is put back inside this test's transaction (and rolled back with it).
    """
    connection = session.connection()
    if connection.scalar(select(func.count()).select_from(AuditHead)) == 0:
        connection.execute(insert(AuditHead).values(id=1, last_id=0, last_hash=GENESIS_HASH))
    yield connection


def append(connection: Connection, count: int) -> list[int]:
    return [
        record(connection, actor="zhang.san", action="person.update", target_type="person", target_id=n, after={"n": n})
        for n in range(count)
    ]


def head(connection: Connection) -> tuple[int, str]:
    row = connection.execute(select(AuditHead.last_id, AuditHead.last_hash)).one()
    return row.last_id, row.last_hash


def unguard(connection: Connection) -> None:
    """Let UPDATE and DELETE through, as only someone who owns the table could."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        connection.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
    else:
        connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")


def unguard_head(connection: Connection) -> None:
    """Let the head move back, as only someone who owns the table could."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER audit_head_no_rewind")
    else:
        connection.exec_driver_sql("ALTER TABLE audit_head DISABLE TRIGGER audit_head_forward_only")


def test_record_appends_a_chain_that_verifies(connection: Connection) -> None:
    start, start_hash = head(connection)
    ids = append(connection, 5)
    assert ids == list(range(start + 1, start + 6))
    rows = connection.execute(select(AuditEntry.__table__).where(AuditEntry.id > start).order_by("id")).all()
    assert rows[0].prev_hash == start_hash
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in itertools.pairwise(rows))
    assert head(connection) == (ids[-1], rows[-1].entry_hash)
    result = verify(connection)
    assert result.ok and result.problems == []
    assert result.entries == start + 5 and result.head_hash == rows[-1].entry_hash


def test_entry_hash_covers_canonical_content(connection: Connection) -> None:
    start, prev = head(connection)
    entry_id = record(
        connection,
        actor="省级管理员",
        action="person.view_unmasked",
        target_type="person",
        target_id=42,
        region_code="141123",
        before={"phone": "138****5678", "b": 1},
        after={"name": "张三", "a": [1, 2]},
        address="10.0.0.1",
        at=AT,
    )
    row = connection.execute(select(AuditEntry.__table__).where(AuditEntry.id == entry_id)).one()
    # Stored JSON is canonical: sorted keys, no spaces, Chinese kept as it is.
    assert row.after == '{"a":[1,2],"name":"张三"}' and row.before == '{"b":1,"phone":"138****5678"}'
    content = {
        "id": start + 1,
        "at": "2024-06-30T09:00:00.123456+00:00",
        "actor": "省级管理员",
        "action": "person.view_unmasked",
        "target_type": "person",
        "target_id": "42",
        "region_code": "141123",
        "before": row.before,
        "after": row.after,
        "address": "10.0.0.1",
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert row.entry_hash == hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()


def test_record_and_verify_accept_a_session(session: Session, connection: Connection) -> None:
    entry_id = record(session, actor="cli", action="user.add")
    assert session.get(AuditEntry, entry_id) is not None
    assert verify(session).ok


def test_record_refuses_bad_fields(connection: Connection) -> None:
    before = head(connection)
    with pytest.raises(ValueError, match="带时区"):
        record(connection, actor="cli", action="x", at=dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="actor 超过 64 个字符"):
        record(connection, actor="a" * 65, action="x")
    with pytest.raises(ValueError, match="操作人"):
        record(connection, actor="", action="x")
    assert head(connection) == before


def test_verify_reads_in_chunks(connection: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log, "CHUNK_ROWS", 3)
    start, _ = head(connection)
    append(connection, 10)
    result = verify(connection)
    assert result.ok and result.entries == start + 10


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_triggers_refuse_update_and_delete(connection: Connection, statement: str) -> None:
    append(connection, 2)
    with pytest.raises(DBAPIError, match="只可追加"), connection.begin_nested():
        connection.exec_driver_sql(statement)
    assert verify(connection).ok


def test_modified_entry_is_detected(connection: Connection) -> None:
    ids = append(connection, 5)
    unguard(connection)
    connection.exec_driver_sql(f"UPDATE audit_log SET after = '{{\"n\":99}}' WHERE id = {ids[2]}")
    result = verify(connection)
    assert not result.ok
    assert result.problems == [f"第 {ids[2]} 条记录的内容与其哈希不符（记录被修改）"]


def test_rehashed_entry_breaks_the_next_link(connection: Connection) -> None:
    ids = append(connection, 5)
    row = connection.execute(select(AuditEntry.__table__).where(AuditEntry.id == ids[2])).one()
    forged = {**row._asdict(), "after": '{"n":99}'}
    forged_hash = log.entry_hash(row.prev_hash, {k: forged[k] for k in forged if k not in ("prev_hash", "entry_hash")})
    unguard(connection)
    connection.execute(
        AuditEntry.__table__.update()
        .where(AuditEntry.id == ids[2])
        .values(after=forged["after"], entry_hash=forged_hash)
    )
    result = verify(connection)
    assert result.problems == [f"第 {ids[3]} 条记录的前一哈希与第 {ids[2]} 条的哈希不符（链条断开，前一条或被改写）"]


def test_deleted_middle_entry_is_detected(connection: Connection) -> None:
    ids = append(connection, 5)
    unguard(connection)
    connection.exec_driver_sql(f"DELETE FROM audit_log WHERE id = {ids[2]}")
    result = verify(connection)
    assert not result.ok
    assert result.problems == [f"第 {ids[1]} 条之后缺少第 {ids[2]} 条（记录被删除）"]


def test_deleted_last_entries_are_caught_by_the_head(connection: Connection) -> None:
    ids = append(connection, 5)
    unguard(connection)
    connection.exec_driver_sql(f"DELETE FROM audit_log WHERE id >= {ids[3]}")
    result = verify(connection)
    assert not result.ok
    assert result.problems == [
        f"第 {ids[2]} 条之后缺少第 {ids[3]}–{ids[4]} 条（记录被删除）：审计链头记录的最后一条为第 {ids[4]} 条"
    ]


def test_head_cannot_move_back(connection: Connection) -> None:
    ids = append(connection, 3)
    with pytest.raises(DBAPIError, match="audit_head 只能前进"):
        connection.execute(AuditHead.__table__.update().values(last_id=ids[1]))


def test_head_cannot_be_deleted(connection: Connection) -> None:
    append(connection, 1)
    with pytest.raises(DBAPIError, match="audit_head 只能前进"):
        connection.execute(AuditHead.__table__.delete())


def test_log_cannot_be_truncated(connection: Connection) -> None:
    append(connection, 1)
    # SQLite has no TRUNCATE: emptying the table is a DELETE without WHERE, refused by 0004's trigger.
    statement, refusal = (
        ("DELETE FROM audit_log", "不可修改或删除")
        if connection.dialect.name == "sqlite"
        else ("TRUNCATE audit_log", "不可修改、删除或清空")
    )
    with pytest.raises(DBAPIError, match=refusal):
        connection.exec_driver_sql(statement)


def test_head_moved_back_is_detected(connection: Connection) -> None:
    ids = append(connection, 3)
    unguard_head(connection)
    connection.execute(AuditHead.__table__.update().values(last_id=ids[1]))
    result = verify(connection)
    assert not result.ok
    assert (
        f"日志中有第 {ids[2]} 条，但审计链头记录的最后一条为第 {ids[1]} 条（链头被改动或记录被插入）" in result.problems
    )


def test_empty_log_verifies(fresh_database: str) -> None:
    engine = make_engine(fresh_database)
    try:
        with engine.connect() as connection:
            result = verify(connection)
    finally:
        engine.dispose()
    assert (result.ok, result.entries, result.head_hash, result.problems) == (True, 0, GENESIS_HASH, [])


def test_concurrent_appenders_keep_one_chain(fresh_database: str) -> None:
    engine = make_engine(fresh_database, pool_size=4) if "postgresql" in fresh_database else make_engine(fresh_database)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def appender(name: str) -> None:
        try:
            start.wait()
            for n in range(50):
                with engine.begin() as connection:  # one transaction per entry: maximal interleaving
                    record(connection, actor=name, action="test.append", target_id=n)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(f"writer{i}",)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with engine.connect() as connection:
            result = verify(connection)
            actors = connection.execute(select(AuditEntry.actor, func.count()).group_by(AuditEntry.actor)).all()
    finally:
        engine.dispose()
    assert result.ok, result.problems
    assert result.entries == 100
    assert dict(actors) == {"writer0": 50, "writer1": 50}
