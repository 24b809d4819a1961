"""Payment batches as a signed-in account reads them: its scope only, account numbers masked, money in fen.

Every read takes a ``Scope`` and has no unscoped variant (access/scope.py): a batch belongs to its
county (``payment_batches.region_code``), so a county sees its own batches, a city or the province
those of their counties, and a township none (``Scope.places`` holds only its own code). A batch
outside the scope reads as absent, never as forbidden, so its existence is not told either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from bangfu.access.scope import Scope
from bangfu.claims.payments import BATCH_LABELS, BATCHES, PAYMENT_LABELS, PAYMENTS
from bangfu.claims.records import CLAIMS, STATUS_LABELS
from bangfu.core.account_cipher import masked
from bangfu.core.regions import name_of
from bangfu.policy.model import FUNDS
from bangfu.registry.queries import MAX_PER_PAGE, Page, QueryError

# The results a reconciliation counts (reissued lines are failed lines already paid again).
RESULT_STATUSES = ("paid", "failed", "reversed", "pending")


@dataclass(frozen=True)
class BatchFilters:
    fund: str | None = None
    county: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class BatchSummary:
    id: int
    fund: str
    fund_label: str
    county: str
    county_name: str
    payer_bank: str
    status: str
    status_label: str
    lines: int
    total_fen: int
    maker: str
    approver: str | None
    created_at: str


@dataclass(frozen=True)
class BatchLine:
    id: int
    claim_id: int
    claim_status: str
    claim_status_label: str
    reference: str
    payee_name: str
    account_masked: str
    payee_bank: str | None
    amount_fen: int
    status: str
    status_label: str
    bank_message: str | None
    bank_date: str | None
    ledger_entry_id: int | None
    reversal_entry_id: int | None
    # A failed line whose claim is failed: it waits for a re-issue to a corrected account.
    needs_reissue: bool


@dataclass(frozen=True)
class Tally:
    """Lines and their sum per result, for a batch or a county and fund."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULT_STATUSES, 0))
    sums_fen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULT_STATUSES, 0))


@dataclass(frozen=True)
class ReconciliationRow:
    county: str
    county_name: str
    fund: str
    fund_label: str
    batches: int
    tally: Tally


def _check_filters(scope: Scope, filters: BatchFilters) -> None:
    if filters.fund and filters.fund not in FUNDS:
        raise QueryError(f"资金“{filters.fund}”不存在：应为 {'、'.join(FUNDS.values())} 之一", "fund", list(FUNDS))
    if filters.status and filters.status not in BATCH_LABELS:
        raise QueryError(
            f"批次状态“{filters.status}”不存在：应为 {'、'.join(BATCH_LABELS.values())} 之一",
            "status",
            list(BATCH_LABELS),
        )
    county = filters.county
    if county and not (county.isdigit() and len(county) == 6 and scope.contains(county)):
        raise QueryError(f"县“{filters.county}”不在您的地区范围内：请从列表中选择本地区的县", "county")


def _conditions(scope: Scope, filters: BatchFilters) -> list[Any]:
    where = [scope.places(BATCHES.c.region_code)]
    if filters.fund:
        where.append(BATCHES.c.fund == filters.fund)
    if filters.county:
        where.append(BATCHES.c.region_code == filters.county)
    if filters.status:
        where.append(BATCHES.c.status == filters.status)
    return where


def list_batches(
    connection: Connection, scope: Scope, filters: BatchFilters, page: int = 1, per_page: int = 20
) -> Page[BatchSummary]:
    """The scope's batches, newest first, with their line count and total."""
    if page < 1:
        raise QueryError(f"页码应为正整数，实为 {page}", "page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"每页条数应在 1 到 {MAX_PER_PAGE} 之间，实为 {per_page}", "per_page")
    _check_filters(scope, filters)
    where = _conditions(scope, filters)
    total = int(connection.scalar(select(func.count()).select_from(BATCHES).where(*where)) or 0)
    totals = (
        select(
            PAYMENTS.c.batch_id,
            func.count().label("lines"),
            func.coalesce(func.sum(PAYMENTS.c.amount_fen), 0).label("total_fen"),
        )
        .group_by(PAYMENTS.c.batch_id)
        .subquery()
    )
    rows = connection.execute(
        select(BATCHES, totals.c.lines, totals.c.total_fen)
        .outerjoin(totals, totals.c.batch_id == BATCHES.c.id)
        .where(*where)
        .order_by(BATCHES.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [_summary(row, int(row.lines or 0), int(row.total_fen or 0)) for row in rows]
    return Page(items, total, page, per_page, math.ceil(total / per_page))


def _summary(row: Any, lines: int, total_fen: int) -> BatchSummary:
    return BatchSummary(
        id=row.id,
        fund=row.fund,
        fund_label=FUNDS.get(row.fund, row.fund),
        county=row.region_code,
        county_name=name_of(row.region_code) or row.region_code,
        payer_bank=row.payer_bank,
        status=row.status,
        status_label=BATCH_LABELS[row.status],
        lines=lines,
        total_fen=total_fen,
        maker=row.maker,
        approver=row.approver,
        created_at=row.created_at.isoformat(),
    )


def batch_in_scope(connection: Connection, scope: Scope, batch_id: int) -> Any | None:
    """The batch row when it lies in the scope, else None (absent and out of scope read the same)."""
    return connection.execute(
        select(BATCHES).where(BATCHES.c.id == batch_id, scope.places(BATCHES.c.region_code))
    ).one_or_none()


def batch_summary(connection: Connection, scope: Scope, batch_id: int) -> BatchSummary | None:
    row = batch_in_scope(connection, scope, batch_id)
    if row is None:
        return None
    lines, total = connection.execute(
        select(func.count(), func.coalesce(func.sum(PAYMENTS.c.amount_fen), 0)).where(PAYMENTS.c.batch_id == batch_id)
    ).one()
    return _summary(row, int(lines), int(total))


def batch_lines(connection: Connection, scope: Scope, batch_id: int) -> list[BatchLine] | None:
    """The batch's lines (account masked by the one masking policy), or None outside the scope."""
    if batch_in_scope(connection, scope, batch_id) is None:
        return None
    rows = connection.execute(
        select(PAYMENTS, CLAIMS.c.status.label("claim_status"))
        .join(CLAIMS, CLAIMS.c.id == PAYMENTS.c.claim_id)
        .where(PAYMENTS.c.batch_id == batch_id)
        .order_by(PAYMENTS.c.id)
    ).all()
    return [
        BatchLine(
            id=row.id,
            claim_id=row.claim_id,
            claim_status=row.claim_status,
            claim_status_label=STATUS_LABELS[row.claim_status],
            reference=row.reference,
            payee_name=row.payee_name,
            account_masked=masked(row.payee_account_tail),
            payee_bank=row.payee_bank,
            amount_fen=row.amount_fen,
            status=row.status,
            status_label=PAYMENT_LABELS[row.status],
            bank_message=row.bank_message,
            bank_date=row.bank_date.isoformat() if row.bank_date else None,
            ledger_entry_id=row.ledger_entry_id,
            reversal_entry_id=row.reversal_entry_id,
            needs_reissue=row.status in ("failed", "reversed") and row.claim_status == "failed",
        )
        for row in rows
    ]


def _tallied(rows: Any) -> Tally:
    tally = Tally()
    for status, count, total in rows:
        if status in tally.counts:
            tally.counts[status] += int(count)
            tally.sums_fen[status] += int(total or 0)
    return tally


def batch_tally(connection: Connection, batch_id: int) -> Tally:
    """Paid, failed, reversed and pending lines of one batch (already scoped by the caller)."""
    return _tallied(
        connection.execute(
            select(PAYMENTS.c.status, func.count(), func.sum(PAYMENTS.c.amount_fen))
            .where(PAYMENTS.c.batch_id == batch_id)
            .group_by(PAYMENTS.c.status)
        ).all()
    )


def reconciliation(connection: Connection, scope: Scope, filters: BatchFilters) -> list[ReconciliationRow]:
    """Per county and fund of the scope: batches, and lines and sums per result."""
    _check_filters(scope, filters)
    where = _conditions(scope, filters)
    counted = connection.execute(
        select(
            BATCHES.c.region_code,
            BATCHES.c.fund,
            PAYMENTS.c.status,
            func.count(),
            func.sum(PAYMENTS.c.amount_fen),
        )
        .join(PAYMENTS, PAYMENTS.c.batch_id == BATCHES.c.id)
        .where(*where)
        .group_by(BATCHES.c.region_code, BATCHES.c.fund, PAYMENTS.c.status)
    ).all()
    batches = dict(
        ((row[0], row[1]), int(row[2]))
        for row in connection.execute(
            select(BATCHES.c.region_code, BATCHES.c.fund, func.count())
            .where(*where)
            .group_by(BATCHES.c.region_code, BATCHES.c.fund)
        ).all()
    )
    grouped: dict[tuple[str, str], list[tuple[str, int, int]]] = {key: [] for key in batches}
    for county, fund, status, count, total in counted:
        grouped.setdefault((county, fund), []).append((status, count, total))
    return [
        ReconciliationRow(
            county=county,
            county_name=name_of(county) or county,
            fund=fund,
            fund_label=FUNDS.get(fund, fund),
            batches=batches.get((county, fund), 0),
            tally=_tallied(rows),
        )
        for (county, fund), rows in sorted(grouped.items())
    ]


def failed_lines_to_act_on(connection: Connection, scope: Scope) -> int:
    """How many failed or reversed lines of the scope wait for a re-issue to a corrected account."""
    return int(
        connection.scalar(
            select(func.count())
            .select_from(PAYMENTS)
            .join(BATCHES, BATCHES.c.id == PAYMENTS.c.batch_id)
            .join(CLAIMS, CLAIMS.c.id == PAYMENTS.c.claim_id)
            .where(
                scope.places(BATCHES.c.region_code),
                PAYMENTS.c.status.in_(("failed", "reversed")),
                CLAIMS.c.status == "failed",
            )
        )
        or 0
    )


__all__ = [
    "BatchFilters",
    "BatchLine",
    "BatchSummary",
    "ReconciliationRow",
    "Tally",
    "batch_in_scope",
    "batch_lines",
    "batch_summary",
    "batch_tally",
    "failed_lines_to_act_on",
    "list_batches",
    "reconciliation",
]
