"""公示: a county's rule, posting approved claims, objections and their resolution (ADR 0034).

A county that requires it posts each approved claim (after the city's review, where one is needed)
for its number of days; ``posted_until`` is the last day, included. Objections are recorded only for a
day inside the period. While one is open the claim is not batched; resolving it is a recorded
decision: dismissed (the claim goes on), or upheld, which returns the claim for correction or
rejects it. Every step writes a claim event and an audit entry in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bangfu.audit import log as audit
from bangfu.claims import decisions
from bangfu.claims.decisions import Actor
from bangfu.claims.gates import COUNTY_RULES, OBJECTIONS, require_scope
from bangfu.claims.records import CLAIMS, STATUS_LABELS, ClaimError, claim_row, now, record_event
from bangfu.core.regions import name_of

# The longest period a county may set; a typo of 700 for 7 should not hold claims for two years.
MAX_POSTING_DAYS = 90
RESOLUTIONS = {"dismiss": "异议不成立，申报继续", "return": "异议成立，退回修改", "reject": "异议成立，驳回申报"}


@dataclass(frozen=True)
class CountyRule:
    county: str
    posting_days: int | None


def set_county_rule(connection: Connection, county: str, posting_days: int | None, actor: Actor) -> CountyRule:
    """Whether ``county`` posts its approved claims, and for how many days (None: it does not)."""
    if not (county.isdigit() and len(county) == 6) or not name_of(county):
        raise ClaimError(f"县代码 {county!r} 不正确：应为 6 位县级行政区划代码（如 141123）")
    require_scope(actor, county, "设置该县的公示规则")
    if posting_days is not None and not 1 <= posting_days <= MAX_POSTING_DAYS:
        raise ClaimError(f"公示天数应为 1–{MAX_POSTING_DAYS} 天，实为 {posting_days}")
    before = connection.execute(select(COUNTY_RULES).where(COUNTY_RULES.c.region_code == county)).one_or_none()
    values = {"posting_days": posting_days, "updated_by": actor.name, "updated_at": now()}
    if before is None:
        connection.execute(insert(COUNTY_RULES).values(region_code=county, **values))
    else:
        connection.execute(update(COUNTY_RULES).where(COUNTY_RULES.c.region_code == county).values(**values))
    audit.record(
        connection,
        actor=actor.name,
        action="county_claim_rule.set",
        target_type="county_claim_rule",
        target_id=county,
        region_code=county,
        before=None if before is None else {"posting_days": before.posting_days},
        after={"posting_days": posting_days},
    )
    return CountyRule(county, posting_days)


def _approved_in_scope(connection: Connection, claim_id: int, actor: Actor, what: str) -> Any:
    claim = claim_row(connection, claim_id)
    require_scope(actor, claim.region_code, what)
    if claim.status != "approved":
        raise ClaimError(
            f"申报 {claim_id} 当前状态为“{STATUS_LABELS[claim.status]}”，只有“已批准”尚未列入支付批次的申报才能{what}"
        )
    return claim


def post(connection: Connection, claim_id: int, actor: Actor, start: dt.date) -> dt.date:
    """Post an approved claim from ``start`` for its county's period; returns the last day."""
    claim = _approved_in_scope(connection, claim_id, actor, "公示")
    if claim.posting_days is None:
        raise ClaimError(f"申报 {claim_id} 批准时所在县不要求公示，无需公示")
    if claim.posted_from is not None:
        raise ClaimError(
            f"申报 {claim_id} 已于 {claim.posted_from.isoformat()} 至 {claim.posted_until.isoformat()} 公示，"
            "不能重复公示"
        )
    if claim.city_review == "pending":
        raise ClaimError(f"申报 {claim_id} 尚待市级复核，复核通过后才能公示")
    until = start + dt.timedelta(days=claim.posting_days - 1)
    changed = connection.execute(
        update(CLAIMS)
        .where(CLAIMS.c.id == claim_id, CLAIMS.c.status == "approved", CLAIMS.c.posted_from.is_(None))
        .values(posted_from=start, posted_until=until, updated_at=now())
    ).rowcount
    if changed != 1:
        raise ClaimError(f"申报 {claim_id} 已被他人同时处理（状态已变），本次公示未生效，请刷新后查看")
    record_event(
        connection,
        claim,
        actor=actor.name,
        from_status="approved",
        to_status="approved",
        reason=f"公示 {claim.posting_days} 天：{start.isoformat()} 至 {until.isoformat()}",
        details={"posted_from": start.isoformat(), "posted_until": until.isoformat()},
        action="posted",
    )
    return until


def record_objection(
    connection: Connection,
    claim_id: int,
    actor: Actor,
    *,
    raised_by: str,
    content: str,
    raised_on: dt.date,
    today: dt.date | None = None,
) -> int:
    """Record an objection raised on ``raised_on`` during the claim's 公示; returns its number."""
    claim = _approved_in_scope(connection, claim_id, actor, "登记公示异议")
    who, what = raised_by.strip(), content.strip()
    if not who or not what:
        raise ClaimError("请写明异议人（--by，可写“匿名”）和异议内容（--content）")
    if claim.posted_from is None:
        raise ClaimError(f"申报 {claim_id} 尚未公示，不能登记公示异议")
    if raised_on > (today or dt.date.today()):
        raise ClaimError(f"异议提出日期 {raised_on.isoformat()} 晚于今天，请核对日期")
    if not claim.posted_from <= raised_on <= claim.posted_until:
        raise ClaimError(
            f"申报 {claim_id} 的公示期为 {claim.posted_from.isoformat()} 至 {claim.posted_until.isoformat()}，"
            f"异议提出日期 {raised_on.isoformat()} 不在公示期内，不能登记为公示异议（可作为信访或举报另行处理）"
        )
    held = connection.execute(
        update(CLAIMS)
        .where(CLAIMS.c.id == claim_id, CLAIMS.c.status == "approved")
        .values(open_objections=CLAIMS.c.open_objections + 1, updated_at=now())
    ).rowcount
    if held != 1:
        raise ClaimError(f"申报 {claim_id} 已被他人同时处理（可能已列入支付批次），异议未登记，请刷新后查看")
    objection_id = int(
        connection.execute(
            insert(OBJECTIONS)
            .values(
                claim_id=claim_id,
                raised_by=who,
                raised_on=raised_on,
                content=what,
                recorded_by=actor.name,
                recorded_at=now(),
                status="open",
            )
            .returning(OBJECTIONS.c.id)
        ).scalar_one()
    )
    record_event(
        connection,
        claim,
        actor=actor.name,
        from_status="approved",
        to_status="approved",
        reason=f"公示异议 {objection_id}（{who}，{raised_on.isoformat()}）：{what}",
        details={"objection": objection_id},
        action="objection",
    )
    return objection_id


def resolve_objection(connection: Connection, objection_id: int, actor: Actor, decision: str, reason: str) -> None:
    """Decide an open objection: ``dismiss`` (the claim goes on), ``return`` or ``reject`` (it was upheld)."""
    if decision not in RESOLUTIONS:
        raise ClaimError(f"处理结果应为以下之一：{'、'.join(f'{k}（{v}）' for k, v in RESOLUTIONS.items())}")
    text = reason.strip()
    if not text:
        raise ClaimError(f"处理公示异议 {objection_id} 必须写明理由（--reason）")
    objection = connection.execute(select(OBJECTIONS).where(OBJECTIONS.c.id == objection_id)).one_or_none()
    if objection is None:
        raise ClaimError(f"没有编号为 {objection_id} 的公示异议")
    claim = _approved_in_scope(connection, objection.claim_id, actor, "处理公示异议")
    if objection.status != "open":
        raise ClaimError(f"公示异议 {objection_id} 已由 {objection.resolved_by} 处理，不能再次处理")
    changed = connection.execute(
        update(OBJECTIONS)
        .where(OBJECTIONS.c.id == objection_id, OBJECTIONS.c.status == "open")
        .values(
            status="dismissed" if decision == "dismiss" else "upheld",
            resolved_by=actor.name,
            resolved_at=now(),
            resolution=f"{RESOLUTIONS[decision]}：{text}",
        )
    ).rowcount
    if changed != 1:
        raise ClaimError(f"公示异议 {objection_id} 已被他人同时处理，本次处理未生效，请刷新后查看")
    said = f"公示异议 {objection_id} {RESOLUTIONS[decision]}：{text}"
    remaining = CLAIMS.c.open_objections - 1 if decision == "dismiss" else 0
    connection.execute(
        update(CLAIMS).where(CLAIMS.c.id == claim.id).values(open_objections=remaining, updated_at=now())
    )
    if decision != "dismiss":
        # The claim leaves ``approved``: its other open objections go with it, so none of them holds
        # the claim back once it is corrected, approved and posted again.
        connection.execute(
            update(OBJECTIONS)
            .where(OBJECTIONS.c.claim_id == claim.id, OBJECTIONS.c.status == "open")
            .values(status="upheld", resolved_by=actor.name, resolved_at=now(), resolution=f"随{said}一并处理")
        )
    if decision == "return":
        decisions.return_for_correction(connection, claim.id, actor, said)
    elif decision == "reject":
        decisions.reject(connection, claim.id, actor, said)
    else:
        record_event(
            connection,
            claim,
            actor=actor.name,
            from_status="approved",
            to_status="approved",
            reason=said,
            details={"objection": objection_id, "resolution": decision},
            action="objection_resolved",
        )


def objections_of(connection: Connection, claim_id: int) -> list[Any]:
    """A claim's objections, oldest first (for the claim page and the CLI)."""
    return list(
        connection.execute(select(OBJECTIONS).where(OBJECTIONS.c.claim_id == claim_id).order_by(OBJECTIONS.c.id))
    )
