"""Append entries to the hash-chained audit log, and verify the chain.

Each entry's ``entry_hash`` is SHA-256 over the previous entry's hash followed by the entry's
canonical JSON (its id included), so changing an entry breaks its own hash and deleting one breaks
the link or the consecutive ids; ``audit_head`` names the last entry, which catches a deleted tail.
Appenders lock the head row first, so concurrent transactions extend one chain instead of forking it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.orm import Session

from bangfu.store.tables import AuditEntry, AuditHead

LOG = cast(Table, AuditEntry.__table__)
HEAD = cast(Table, AuditHead.__table__)
HEAD_ID = 1
GENESIS_HASH = "0" * 64
CHUNK_ROWS = 10_000
# Enough to see what happened; a log broken everywhere would otherwise print millions of lines.
MAX_PROBLEMS = 100
_LIMITS: dict[str, int | None] = {
    name: getattr(LOG.c[name].type, "length", None)
    for name in ("actor", "action", "target_type", "target_id", "region_code", "address")
}


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_hash: str
    problems: list[str] = field(default_factory=list)


def _connection(target: Connection | Session) -> Connection:
    return target.connection() if isinstance(target, Session) else target


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite returns DateTime(timezone=True) columns naive; everything this module writes is UTC.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _timestamp(moment: dt.datetime) -> str:
    return _utc(moment).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 (hex) of the previous hash and the entry's fields (``at`` as a datetime, JSON as text)."""
    content = {**fields, "at": _timestamp(fields["at"])}
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


def _hashed_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "region_code": row.region_code,
        "before": row.before,
        "after": row.after,
        "address": row.address,
    }


def _checked(fields: dict[str, Any]) -> None:
    # PostgreSQL would refuse an over-long value and SQLite would keep it whole: refuse on both.
    for name, limit in _LIMITS.items():
        value = fields[name]
        if value is not None and limit is not None and len(value) > limit:
            raise ValueError(f"审计记录的 {name} 超过 {limit} 个字符：{value[:limit]}…")
    if not fields["actor"] or not fields["action"]:
        raise ValueError("审计记录必须写明操作人（actor）与操作（action）")


def _lock_head(connection: Connection) -> Any:
    if connection.dialect.name == "sqlite":
        # SQLite has no row locks; a write takes the database's write lock until the transaction ends.
        # Writing first (a no-op) takes it before the read, so two appenders cannot read the same head.
        connection.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_id=HEAD.c.last_id))
    head = connection.execute(
        select(HEAD.c.last_id, HEAD.c.last_hash).where(HEAD.c.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        raise RuntimeError("审计链头 audit_head 缺少第 1 行：数据库未经 bangfu init 初始化，或链头被删除")
    return head


def record(
    target: Connection | Session,
    *,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    region_code: str | None = None,
    before: Any = None,
    after: Any = None,
    address: str | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Append one entry in the caller's transaction (it is kept only if that commits); returns its id.

    ``before`` and ``after`` are any JSON values (None for none), stored as canonical JSON text.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("审计记录的时间 at 必须带时区（UTC）")
    connection = _connection(target)
    head = _lock_head(connection)
    fields: dict[str, Any] = {
        # Safe to number ourselves: the head is locked until this transaction ends.
        "id": head.last_id + 1,
        # The stored value loses nothing beyond microseconds, so the hash recomputes from the row.
        "at": _utc(at or dt.datetime.now(dt.UTC)),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "region_code": region_code,
        "before": None if before is None else canonical_json(before),
        "after": None if after is None else canonical_json(after),
        "address": address,
    }
    _checked(fields)
    digest = entry_hash(head.last_hash, fields)
    connection.execute(insert(LOG).values(**fields, prev_hash=head.last_hash, entry_hash=digest))
    connection.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_id=fields["id"], last_hash=digest))
    return int(fields["id"])


def record_many(target: Connection | Session, entries: list[dict[str, Any]]) -> list[int]:
    """Append many entries (each the keyword arguments of ``record``) with one head lock, one bulk
    insert (COPY on PostgreSQL) and one head update; the chain is the same as appending them one by
    one. Returns their ids."""
    if not entries:
        return []
    connection = _connection(target)
    head = _lock_head(connection)
    at = dt.datetime.now(dt.UTC)
    last_id, last_hash = head.last_id, head.last_hash
    rows: list[dict[str, Any]] = []
    for entry in entries:
        before, after, target_id = entry.get("before"), entry.get("after"), entry.get("target_id")
        last_id += 1
        fields: dict[str, Any] = {
            "id": last_id,
            "at": _utc(entry.get("at") or at),
            "actor": entry["actor"],
            "action": entry["action"],
            "target_type": entry.get("target_type"),
            "target_id": None if target_id is None else str(target_id),
            "region_code": entry.get("region_code"),
            "before": None if before is None else canonical_json(before),
            "after": None if after is None else canonical_json(after),
            "address": entry.get("address"),
        }
        _checked(fields)
        digest = entry_hash(last_hash, fields)
        rows.append({**fields, "prev_hash": last_hash, "entry_hash": digest})
        last_hash = digest
    from bangfu.registry.imports.upsert.bulk_io import insert_dicts  # COPY on PostgreSQL

    insert_dicts(connection, LOG, rows)
    connection.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_id=last_id, last_hash=last_hash))
    return [row["id"] for row in rows]


def _rows(connection: Connection, up_to: int) -> Iterator[Any]:
    """Entries with ids up to ``up_to`` in id order, read in chunks by key (no cursor held open)."""
    after = 0
    while True:
        chunk = connection.execute(
            select(LOG).where(LOG.c.id > after, LOG.c.id <= up_to).order_by(LOG.c.id).limit(CHUNK_ROWS)
        ).all()
        yield from chunk
        if len(chunk) < CHUNK_ROWS:
            return
        after = chunk[-1].id


def _missing(after: int, upto: int) -> str:
    """The ids ``after + 1`` … ``upto`` are absent."""
    missing = f"第 {after + 1} 条" if upto == after + 1 else f"第 {after + 1}–{upto} 条"
    where = "开头" if after == 0 else f"第 {after} 条之后"
    return f"{where}缺少{missing}（记录被删除）"


class _Problems:
    def __init__(self) -> None:
        self.shown: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.shown) < MAX_PROBLEMS:
            self.shown.append(message)

    def listed(self) -> list[str]:
        hidden = self.count - len(self.shown)
        return [*self.shown, f"另有 {hidden} 处问题未列出"] if hidden else list(self.shown)


def verify(target: Connection | Session) -> VerifyResult:
    """Recompute every entry's hash, check links, consecutive ids and the head; problems name entry ids."""
    connection = _connection(target)
    head = connection.execute(select(HEAD.c.last_id, HEAD.c.last_hash).where(HEAD.c.id == HEAD_ID)).one_or_none()
    if head is None:
        missing = "审计链头 audit_head 缺少第 1 行（链头被删除，或数据库未经 bangfu init 初始化）"
        return VerifyResult(False, 0, "", [missing])
    problems = _Problems()
    # Entries appended while this runs lie beyond the head read above: they are left for the next check.
    last_id, last_hash, entries = 0, GENESIS_HASH, 0
    for row in _rows(connection, head.last_id):
        entries += 1
        if row.id != last_id + 1:
            problems.add(_missing(last_id, row.id - 1))
        elif row.prev_hash != last_hash:
            problems.add(f"第 {row.id} 条记录的前一哈希与第 {last_id} 条的哈希不符（链条断开，前一条或被改写）")
        if entry_hash(row.prev_hash, _hashed_fields(row)) != row.entry_hash:
            problems.add(f"第 {row.id} 条记录的内容与其哈希不符（记录被修改）")
        last_id, last_hash = row.id, row.entry_hash
    if last_id < head.last_id:
        problems.add(_missing(last_id, head.last_id) + f"：审计链头记录的最后一条为第 {head.last_id} 条")
    elif head.last_id and last_hash != head.last_hash:
        problems.add(f"第 {last_id} 条记录的哈希与审计链头不符（记录或链头被修改）")
    # The newest id before the head again: an append committing in between then cannot look like an intruder.
    newest = connection.scalar(select(func.max(LOG.c.id))) or 0
    current = connection.scalar(select(HEAD.c.last_id).where(HEAD.c.id == HEAD_ID)) or 0
    if newest > current:
        problems.add(f"日志中有第 {newest} 条，但审计链头记录的最后一条为第 {current} 条（链头被改动或记录被插入）")
    return VerifyResult(problems.count == 0, entries, head.last_hash, problems.listed())
