"""Claims as the pages and the API read them: a scoped, filtered, sorted page of claims, and one claim
with what was decided and its history (ADR 0032).

Scoped like every read (``access.scope``): a county, city or province reader sees the claims of the
counties in its region (``claims.region_code`` is the deciding county); a township reader sees those of
its township's persons and organizations, and the applications it started itself. A claim outside the
scope is answered exactly like a missing one (None, or not listed). Identifiers are masked by the one
policy (``core.disclosure``); the payee account as its last four digits (``core.account_cipher.masked``, ADR 0035).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from bangfu.access.scope import Scope
from bangfu.claims.records import CLAIMS, EVENTS, STATUS_LABELS
from bangfu.core import regions
from bangfu.core.account_cipher import masked
from bangfu.core.disclosure import masked_id_number
from bangfu.policy.model import FUNDS
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.repeat import REPEAT_KINDS
from bangfu.registry.queries import ORGANIZATIONS, PERSONS, Page, QueryError
from bangfu.store.claim_tables import CLAIM_STATUSES

MAX_PER_PAGE = 100
# key -> (label, the columns it orders by; the id last, so that a page is stable)
CLAIM_SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "created": ("起草时间", (CLAIMS.c.created_at,)),
    "updated": ("最近处理时间", (CLAIMS.c.updated_at,)),
    "amount": ("金额", (CLAIMS.c.amount_fen,)),
    "event_date": ("事件日期", (CLAIMS.c.event_date,)),
}
DEFAULT_SORT = "-updated"


@dataclass(frozen=True)
class ClaimFilters:
    """What a queue asks for; empty fields are not given. ``flagged``: "yes", "no" or ""."""

    status: str = ""
    benefit: str = ""
    fund: str = ""
    flagged: str = ""


@dataclass(frozen=True)
class ClaimSummary:
    id: int
    beneficiary_kind: str
    beneficiary_id: int
    beneficiary_name: str
    id_number_masked: str | None  # persons only
    benefit_id: str
    benefit_label: str
    fund: str
    fund_label: str
    amount_fen: int
    status: str
    status_label: str
    flagged: bool
    region_code: str
    region_name: str
    event_date: dt.date
    maker: str
    approver: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class ClaimEventView:
    at: dt.datetime
    actor: str
    from_status: str | None
    from_label: str | None
    to_status: str
    to_label: str
    reason: str | None


@dataclass(frozen=True)
class CheckResult:
    rule: str
    label: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class ClaimDetail:
    summary: ClaimSummary
    document_id: str
    document_title: str
    document_version: str | None
    decided_on: dt.date
    repeat_label: str
    units: int | None
    # The engine's answer and the parameter values as decided: stored on the claim, never recomputed.
    explanation: dict[str, Any]
    parameters: list[dict[str, Any]]
    checks: list[CheckResult] | None  # None: the auto-checks have not run
    payee_name: str | None
    payee_account_masked: str | None
    payee_bank: str | None
    events: list[ClaimEventView]


def claims_in(scope: Scope, reader: str) -> ColumnElement[bool]:
    """Claims the reader of ``scope`` may see (see the module's docstring)."""
    if scope.level != "township":
        return scope.counties(CLAIMS.c.region_code)
    persons = select(PERSONS.c.id).where(scope.persons(PERSONS))
    organizations = select(ORGANIZATIONS.c.id).where(scope.organizations(ORGANIZATIONS))
    return and_(
        scope.counties(CLAIMS.c.region_code),
        or_(CLAIMS.c.maker == reader, CLAIMS.c.person_id.in_(persons), CLAIMS.c.org_id.in_(organizations)),
    )


def _conditions(filters: ClaimFilters, policies: PolicySet) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.status:
        if filters.status not in CLAIM_STATUSES:
            choices = "、".join(STATUS_LABELS[s] for s in CLAIM_STATUSES)
            raise QueryError(f"申报状态“{filters.status}”无效，应为：{choices}", "status", CLAIM_STATUSES)
        where.append(CLAIMS.c.status == filters.status)
    if filters.benefit:
        if policies.benefit(filters.benefit) is None:
            raise QueryError(f"补贴项目“{filters.benefit}”不存在，请从列表中选择", "benefit", benefit_ids(policies))
        where.append(CLAIMS.c.benefit_id == filters.benefit)
    if filters.fund:
        if filters.fund not in FUNDS:
            raise QueryError(f"资金“{filters.fund}”不存在，请从列表中选择", "fund", list(FUNDS))
        where.append(CLAIMS.c.fund == filters.fund)
    if filters.flagged:
        if filters.flagged not in ("yes", "no"):
            raise QueryError("自动审核结果应为“未通过”或“通过”", "flagged", ["yes", "no"])
        where.append(CLAIMS.c.flagged.is_(filters.flagged == "yes"))
    return where


def benefit_ids(policies: PolicySet) -> list[str]:
    """Every benefit that pays money, once (the same id in two documents is one choice)."""
    seen: dict[str, None] = {}
    for document in policies.documents:
        for benefit_id, benefit in document.benefits.items():
            if benefit.fund != "none":
                seen.setdefault(benefit_id)
    return list(seen)


def _order(sort: str) -> list[Any]:
    key = sort.removeprefix("-")
    if key not in CLAIM_SORTS:
        choices = "、".join(CLAIM_SORTS)
        raise QueryError(f"排序方式“{sort}”无效，应为 {choices}（前加“-”为倒序）", "sort", list(CLAIM_SORTS))
    columns = CLAIM_SORTS[key][1]
    if sort.startswith("-"):
        return [c.desc() for c in columns] + [CLAIMS.c.id.desc()]
    return [*columns, CLAIMS.c.id]


def _query() -> Any:
    return (
        select(
            CLAIMS,
            PERSONS.c.name.label("person_name"),
            PERSONS.c.id_number,
            ORGANIZATIONS.c.name.label("org_name"),
        )
        .outerjoin(PERSONS, PERSONS.c.id == CLAIMS.c.person_id)
        .outerjoin(ORGANIZATIONS, ORGANIZATIONS.c.id == CLAIMS.c.org_id)
    )


def _summary(row: Any, policies: PolicySet) -> ClaimSummary:
    benefit = _benefit(policies, row.document_id, row.benefit_id)
    person = row.beneficiary_kind == "person"
    return ClaimSummary(
        id=row.id,
        beneficiary_kind=row.beneficiary_kind,
        beneficiary_id=row.person_id if person else row.org_id,
        beneficiary_name=(row.person_name if person else row.org_name) or "—",
        id_number_masked=masked_id_number(row.id_number) if person and row.id_number else None,
        benefit_id=row.benefit_id,
        benefit_label=benefit.label if benefit is not None else "（已不在政策中的项目）",
        fund=row.fund,
        fund_label=FUNDS.get(row.fund, "其他"),
        amount_fen=row.amount_fen,
        status=row.status,
        status_label=STATUS_LABELS[row.status],
        flagged=bool(row.flagged),
        region_code=row.region_code,
        region_name=regions.full_name(row.region_code) if regions.get(row.region_code) else row.region_code,
        event_date=row.event_date,
        maker=row.maker,
        approver=row.approver,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _benefit(policies: PolicySet, document_id: str, benefit_id: str) -> Any:
    try:
        return policies.document(document_id).benefits.get(benefit_id)
    except ValueError:
        return policies.benefit(benefit_id)


def search_claims(
    connection: Connection,
    scope: Scope,
    reader: str,
    policies: PolicySet,
    filters: ClaimFilters,
    *,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = 20,
) -> Page[ClaimSummary]:
    """One page of the claims ``reader`` may see that match ``filters``; QueryError names a bad one."""
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"每页条数应为 1–{MAX_PER_PAGE}", "per_page")
    where = [claims_in(scope, reader), *_conditions(filters, policies)]
    total = int(connection.scalar(select(func.count()).select_from(CLAIMS).where(*where)) or 0)
    rows = connection.execute(
        _query().where(*where).order_by(*_order(sort)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(
        items=[_summary(row, policies) for row in rows],
        total=total,
        page=page,
        per_page=per_page,
        pages=math.ceil(total / per_page),
    )


def _checks(stored: str | None) -> list[CheckResult] | None:
    if stored is None:
        return None
    return [CheckResult(f["rule"], f["label"], bool(f["passed"]), f["reason"]) for f in json.loads(stored)]


def claim_detail(
    connection: Connection, scope: Scope, reader: str, policies: PolicySet, claim_id: int
) -> ClaimDetail | None:
    """One claim as decided, with its checks and history; None when missing or outside the scope."""
    row = connection.execute(_query().where(CLAIMS.c.id == claim_id, claims_in(scope, reader))).one_or_none()
    if row is None:
        return None
    events = connection.execute(select(EVENTS).where(EVENTS.c.claim_id == claim_id).order_by(EVENTS.c.id)).all()
    try:
        title = policies.document(row.document_id).title
    except ValueError:
        title = "（已不在本平台的政策文件）"
    kind = REPEAT_KINDS.get(row.repeat_per)
    return ClaimDetail(
        summary=_summary(row, policies),
        document_id=row.document_id,
        document_title=title,
        document_version=row.document_version,
        decided_on=row.decided_on,
        repeat_label=kind.label if kind is not None else "—",
        units=row.units,
        explanation=json.loads(row.explanation),
        parameters=json.loads(row.parameters),
        checks=_checks(row.check_results),
        payee_name=row.payee_name,
        payee_account_masked=masked(row.payee_account_tail) or None,
        payee_bank=row.payee_bank,
        events=[
            ClaimEventView(
                at=e.at,
                actor=e.actor,
                from_status=e.from_status,
                from_label=STATUS_LABELS.get(e.from_status) if e.from_status else None,
                to_status=e.to_status,
                to_label=STATUS_LABELS[e.to_status],
                reason=e.reason,
            )
            for e in events
        ],
    )
