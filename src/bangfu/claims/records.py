"""Claim transitions as records: the conditional status change, its claim event and its audit entry,
in the caller's transaction.

A transition is ``UPDATE claims … WHERE id = :id AND status = :seen``: when two users act on one
claim at once, the second update finds the status changed and matches no row, so exactly one
succeeds (on PostgreSQL the second waits for the first's row lock, then re-reads the row).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from bangfu.audit import log as audit
from bangfu.registry.imports.upsert.bulk_io import id_in, insert_dicts
from bangfu.store.claim_tables import DEAD_STATUSES, Claim, ClaimEvent, ClaimMoneyKey

CLAIMS = cast(Table, Claim.__table__)
EVENTS = cast(Table, ClaimEvent.__table__)
KEYS = cast(Table, ClaimMoneyKey.__table__)

STATUS_LABELS = {
    "drafted": "已起草",
    "checked": "已自动审核",
    "returned": "已退回修改",
    "approved": "已批准",
    "batched": "已列入支付批次",
    "paid": "已支付",
    "failed": "支付失败",
    "rejected": "已驳回",
    "withdrawn": "已撤回",
}


class ClaimError(ValueError):
    """A claim action refused, with the reason in Chinese."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def claim_row(connection: Connection, claim_id: int) -> Any:
    row = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one_or_none()
    if row is None:
        raise ClaimError(f"没有编号为 {claim_id} 的申报")
    return row


def record_event(
    connection: Connection,
    claim: Any,
    *,
    actor: str,
    from_status: str | None,
    to_status: str,
    reason: str | None,
    details: dict[str, Any] | None = None,
    action: str | None = None,
) -> None:
    """The claim event and its audit entry (``claim.<to_status>`` unless ``action`` names another step,
    such as ``claim.objection``) for a change already made in this transaction."""
    at = now()
    audit_id = audit.record(
        connection,
        actor=actor,
        action=f"claim.{action or to_status}",
        target_type="claim",
        target_id=claim.id,
        region_code=claim.region_code,
        before=None if from_status is None else {"status": from_status},
        after={"status": to_status, "reason": reason, **(details or {})},
        at=at,
    )
    connection.execute(
        insert(EVENTS).values(
            claim_id=claim.id,
            at=at,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            audit_id=audit_id,
        )
    )


def transition(
    connection: Connection,
    claim_id: int,
    *,
    actor: str,
    allowed_from: tuple[str, ...],
    to_status: str,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    also: Any = None,
) -> Any:
    """Move a claim from one of ``allowed_from`` to ``to_status``, or raise ``ClaimError`` saying why not."""
    claim = claim_row(connection, claim_id)
    if claim.status not in allowed_from:
        wanted = "、".join(STATUS_LABELS[s] for s in allowed_from)
        raise ClaimError(
            f"申报 {claim_id} 当前状态为“{STATUS_LABELS[claim.status]}”，只有“{wanted}”的申报才能"
            f"改为“{STATUS_LABELS[to_status]}”"
        )
    where = [CLAIMS.c.id == claim_id, CLAIMS.c.status == claim.status]
    if also is not None:
        where.append(also)
    changed = connection.execute(
        update(CLAIMS).where(*where).values(status=to_status, updated_at=now(), **(values or {}))
    ).rowcount
    if changed != 1:
        raise ClaimError(f"申报 {claim_id} 已被他人同时处理（状态已变），本次操作未生效，请刷新后查看")
    if to_status in DEAD_STATUSES:
        # A refused claim frees its money key: the same benefit may be claimed again, correctly.
        connection.execute(update(KEYS).where(KEYS.c.claim_id == claim_id).values(live=False))
    record_event(
        connection, claim, actor=actor, from_status=claim.status, to_status=to_status, reason=reason, details=details
    )
    return claim


# Ids per statement (they travel as one parameter: bulk_io.id_in).
CHUNK = 50_000


def transition_many(
    connection: Connection,
    claims: Sequence[Any],
    *,
    actor: str,
    from_status: str,
    to_status: str,
    reason: Callable[[Any], str],
    details: Callable[[Any], dict[str, Any] | None] = lambda claim: None,
    also: Any = None,
    values: dict[str, Any] | None = None,
) -> list[Any]:
    """``transition`` for many claims seen in ``from_status``, set-based: one conditional UPDATE per
    50,000 claims, then each moved claim's event and audit entry in bulk (one head lock, one chain).
    Returns the claims that moved; one changed meanwhile by someone else (or failing ``also``) is left."""
    moved: list[Any] = []
    at = now()
    for start in range(0, len(claims), CHUNK):
        chunk = {c.id: c for c in claims[start : start + CHUNK]}
        where = [id_in(connection, CLAIMS.c.id, list(chunk)), CLAIMS.c.status == from_status]
        if also is not None:
            where.append(also)
        ids = connection.execute(
            update(CLAIMS)
            .where(*where)
            .values(status=to_status, updated_at=at, **(values or {}))
            .returning(CLAIMS.c.id)
        ).scalars()
        moved.extend(chunk[i] for i in sorted(ids))
    if to_status in DEAD_STATUSES:
        for start in range(0, len(moved), CHUNK):
            chunk_ids = [c.id for c in moved[start : start + CHUNK]]
            connection.execute(update(KEYS).where(id_in(connection, KEYS.c.claim_id, chunk_ids)).values(live=False))
    reasons = [reason(c) for c in moved]
    audit_ids = audit.record_many(
        connection,
        [
            {
                "actor": actor,
                "action": f"claim.{to_status}",
                "target_type": "claim",
                "target_id": c.id,
                "region_code": c.region_code,
                "before": {"status": from_status},
                "after": {"status": to_status, "reason": why, **(details(c) or {})},
                "at": at,
            }
            for c, why in zip(moved, reasons, strict=True)
        ],
    )
    events = [
        {"claim_id": c.id, "at": at, "actor": actor, "from_status": from_status, "to_status": to_status,
         "reason": why, "audit_id": audit_id}
        for c, why, audit_id in zip(moved, reasons, audit_ids, strict=True)
    ]  # fmt: skip
    insert_dicts(connection, EVENTS, events)
    return moved
