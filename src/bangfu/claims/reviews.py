"""The city's review of a large organization reward, after the county approved it (ADR 0034).

Only a city account of the city that holds the claim's county reviews it; a county, province or
township account is refused, and so is the server's operator without an account. Passing it opens
the gate (the claim stays ``approved``); rejecting it rejects the claim with the city's reason.
"""

from __future__ import annotations

from sqlalchemy import Connection, update

from bangfu.claims.decisions import Actor, reject
from bangfu.claims.gates import CITY_REVIEW_REASON, covers_as_city
from bangfu.claims.records import CLAIMS, ClaimError, claim_row, now, record_event
from bangfu.core.money import format_yuan
from bangfu.core.regions import name_of


def review(connection: Connection, claim_id: int, actor: Actor, *, reject_reason: str | None = None) -> None:
    """Pass the city review of an approved claim that awaits it, or reject the claim with a reason."""
    claim = claim_row(connection, claim_id)
    county = name_of(claim.region_code) or claim.region_code
    if not covers_as_city(actor, claim.region_code):
        raise ClaimError(
            f"申报 {claim_id}（{county}）须由其所在市的市级账户复核；{actor.name} 不是该市的市级账户"
            "（用 --as 指定市级人社部门的账户）"
        )
    if claim.city_review != "pending" or claim.status != "approved":
        if claim.city_review == "passed":
            raise ClaimError(f"申报 {claim_id} 已由 {claim.city_reviewer} 完成市级复核，无需再次复核")
        raise ClaimError(
            f"申报 {claim_id} 不在待市级复核状态：只有县级已批准、金额 {format_yuan(10_000_000)} 及以上的单位奖补"
            "需要市级复核"
        )
    if reject_reason is not None:
        text = reject_reason.strip()
        if not text:
            raise ClaimError("市级复核不同意时必须写明原因（--reason）")
        reject(connection, claim_id, actor, f"市级复核不同意：{text}")
        return
    changed = connection.execute(
        update(CLAIMS)
        .where(CLAIMS.c.id == claim_id, CLAIMS.c.status == "approved", CLAIMS.c.city_review == "pending")
        .values(city_review="passed", city_reviewer=actor.name, city_reviewed_at=now(), updated_at=now())
    ).rowcount
    if changed != 1:
        raise ClaimError(f"申报 {claim_id} 已被他人同时处理（状态已变），本次复核未生效，请刷新后查看")
    record_event(
        connection,
        claim,
        actor=actor.name,
        from_status="approved",
        to_status="approved",
        reason=f"市级复核通过（{CITY_REVIEW_REASON}）",
        details={"city_review": "passed"},
        action="city_review",
    )
