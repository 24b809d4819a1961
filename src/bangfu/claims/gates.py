"""What an approved claim still waits for before it is batched: the city's review and the 公示 (ADR 0034).

Both gates are fixed on the claim when it is approved (``gates_at_approval``), so a later change of the
threshold or of a county's rule never reopens or skips a claim already decided. ``batchable`` is the
one condition payments.build_batch selects by; ``held_reason`` says in Chinese why a claim is not yet.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Connection, Table, and_, or_, select

from bangfu.access.scope import Scope, UnknownRegionError
from bangfu.claims.records import CLAIMS, ClaimError
from bangfu.core.money import format_yuan
from bangfu.core.regions import name_of
from bangfu.store.claim_tables import ClaimObjection, CountyClaimRule

if TYPE_CHECKING:
    from bangfu.claims.decisions import Actor

OBJECTIONS = cast(Table, ClaimObjection.__table__)
COUNTY_RULES = cast(Table, CountyClaimRule.__table__)

# Issue 12: "reviewed by the city for organization rewards of 100,000 yuan or more" — 10 万元及以上
# (以上 includes the number itself, Civil Code art. 1259), for organizations only; persons' subsidies
# are far below it. Checked on the claim's amount when the county approves it.
CITY_REVIEW_THRESHOLD_FEN = 10_000_000
CITY_REVIEW_REASON = "单位奖补金额 10 万元及以上，县级批准后须经市级人社部门复核方可支付"


def needs_city_review(claim: Any) -> bool:
    return bool(claim.beneficiary_kind == "organization" and claim.amount_fen >= CITY_REVIEW_THRESHOLD_FEN)


def posting_days(connection: Connection, county: str) -> int | None:
    """The county's 公示 period in days, or None when it posts nothing (no rule, or a rule without days)."""
    days = connection.scalar(select(COUNTY_RULES.c.posting_days).where(COUNTY_RULES.c.region_code == county))
    return None if days is None else int(days)


def gates_at_approval(connection: Connection, claim: Any) -> dict[str, Any]:
    """The gate columns an approval writes: what this claim must pass before it is batched."""
    return {
        "city_review": "pending" if needs_city_review(claim) else None,
        "city_reviewer": None,
        "city_reviewed_at": None,
        "posting_days": posting_days(connection, claim.region_code),
        "posted_from": None,
        "posted_until": None,
    }


CLEARED: dict[str, Any] = dict.fromkeys(
    ("city_review", "city_reviewer", "city_reviewed_at", "posting_days", "posted_from", "posted_until")
)


def batchable(today: dt.date) -> ColumnElement[bool]:
    """Approved claims whose gates are all open on ``today``: city review passed or not needed; posted
    and the period over (the day after its last day) or not posted by rule; no open objection. Only
    the claim's own columns, so an UPDATE rechecks it on the row it locked."""
    return and_(
        or_(CLAIMS.c.city_review.is_(None), CLAIMS.c.city_review == "passed"),
        or_(CLAIMS.c.posting_days.is_(None), and_(CLAIMS.c.posted_until.is_not(None), CLAIMS.c.posted_until < today)),
        CLAIMS.c.open_objections == 0,
    )


def held_reason(connection: Connection, claim: Any, today: dt.date) -> str | None:
    """Why an approved claim is not batchable on ``today``, in Chinese; None when it is."""
    if claim.city_review == "pending":
        return f"待市级复核（{format_yuan(claim.amount_fen)}，{CITY_REVIEW_REASON}）"
    if claim.posting_days is not None:
        if claim.posted_until is None:
            return f"本县要求公示 {claim.posting_days} 天，尚未公示"
        if claim.posted_until >= today:
            return f"公示期至 {claim.posted_until.isoformat()}，尚未期满"
    objections = connection.scalar(
        select(OBJECTIONS.c.id).where(OBJECTIONS.c.claim_id == claim.id, OBJECTIONS.c.status == "open").limit(1)
    )
    if objections is not None:
        return f"公示异议 {objections} 尚未处理"
    return None


def require_scope(actor: Actor, county: str, what: str) -> None:
    """Refuse an account whose region does not hold the claim's county (the operator acts without one)."""
    if actor.region is None:
        return
    try:
        scope = Scope.for_region(actor.region)
    except UnknownRegionError:
        scope = None
    if scope is None or not scope.contains(county):
        raise ClaimError(
            f"账户 {actor.name} 的管辖地区不含{name_of(county) or county}（{county}），不能{what}；"
            "请由该县或其上级的账户操作"
        )


def covers_as_city(actor: Actor, county: str) -> bool:
    """Whether ``actor`` is a city account of the city that holds ``county``."""
    if actor.role != "city" or actor.region is None:
        return False
    try:
        return Scope.for_region(actor.region).contains(county)
    except UnknownRegionError:
        return False
