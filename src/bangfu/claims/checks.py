"""The auto-checks of a claim: named rules, each with its reason in Chinese.

Run when a drafted claim is checked (decisions.check_claim). A failed rule flags the claim: it is
approved only with an explicit, recorded override. The rules that read the registry for signs of
fraud (a death, training days, a provider's jump, insured workers, a shared account) are in
suspect_checks.py. The money key itself is a database constraint
(keys.py); ``repeat_key`` here reports what the constraint cannot see: a payment the ledger holds
that no claim made (an import of earlier payments).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, func, select

from bangfu.claims import keys, suspect_checks
from bangfu.claims.drafting import LEDGER, evaluated
from bangfu.claims.findings import Context, Finding
from bangfu.claims.records import CLAIMS, STATUS_LABELS
from bangfu.core.money import format_yuan
from bangfu.policy.policy_set import PolicySet
from bangfu.store.claim_tables import DEAD_STATUSES


def _beneficiary(claim: Any) -> Any:
    return LEDGER.c.person_id == claim.person_id if claim.person_id is not None else LEDGER.c.org_id == claim.org_id


def _same_scope(scope: str | None, claim: Any) -> Any:
    if scope == "calendar_year":
        year = claim.event_date.year
        return LEDGER.c.date.between(dt.date(year, 1, 1), dt.date(year, 12, 31))
    return LEDGER.c.date.is_not(None)


def repeat_key(ctx: Context) -> Finding:
    claim = ctx.claim
    label = "同一计发依据已申报或已发放（任一县）"
    where = [_beneficiary(claim), LEDGER.c.benefit_id == claim.benefit_id]
    if keys.per_unit(claim.repeat_per):
        paid = int(ctx.connection.scalar(select(func.coalesce(func.sum(LEDGER.c.units), 0)).where(*where)) or 0)
        first = int(claim.money_key.rsplit("#", 1)[1])
        if paid >= first:
            return Finding(
                "repeat_key",
                label,
                False,
                f"已享受记录显示已发放 {paid} 个计发单位，本申报从第 {first} 个起算，存在重复",
            )
    else:
        scope = "calendar_year" if claim.repeat_per == "person_year" else None
        paid_fen = ctx.connection.scalar(select(func.sum(LEDGER.c.amount_fen)).where(*where, _same_scope(scope, claim)))
        if paid_fen and paid_fen > 0:
            when = f"{claim.event_date.year} 年度" if scope else ""
            return Finding("repeat_key", label, False, f"已享受记录显示{when}已发放该项目 {format_yuan(int(paid_fen))}")
    return Finding("repeat_key", label, True, "未发现同一计发依据的其他申报或发放（数据库唯一约束保证）")


def amount(ctx: Context) -> Finding:
    label = "申报金额与政策计算一致"
    if ctx.answer is None or ctx.answer["status"] != "granted":
        return Finding("amount", label, True, "政策已不予享受，见“事件日符合条件”")
    due = int(ctx.answer["amount_fen"])
    if due != ctx.claim.amount_fen:
        return Finding(
            "amount",
            label,
            False,
            f"申报金额 {format_yuan(ctx.claim.amount_fen)} 与政策计算的 {format_yuan(due)} 不符",
        )
    return Finding("amount", label, True, f"与政策计算一致：{format_yuan(due)}")


def eligible(ctx: Context) -> Finding:
    label = "事件日符合条件"
    if ctx.answer is None:
        return Finding("eligible", label, False, "按现行政策，该对象已不适用此项目")
    if ctx.answer["status"] != "granted":
        reasons = "；".join(ctx.answer.get("reasons") or [])
        return Finding("eligible", label, False, f"按登记信息重新计算为“{ctx.answer['status_label']}”：{reasons}")
    return Finding("eligible", label, True, "按登记信息重新计算仍符合全部条件")


def _exclusive_partners(policies: PolicySet, claim: Any) -> list[tuple[str, str, str]]:
    """(benefit id, scope, reason) of each benefit declared exclusive with the claim's."""
    partners: list[tuple[str, str, str]] = []
    document = policies.document(claim.document_id)
    for group in document.exclusions:
        if group.kind == "one_of" and claim.benefit_id in group.members:
            partners += [(m, group.scope, group.reason) for m in group.members if m != claim.benefit_id]
    for cross in policies.cross_exclusions():
        members = [b for _, b in cross.members]
        if (claim.document_id, claim.benefit_id) in cross.members:
            partners += [(m, cross.scope, cross.reason) for m in members if m != claim.benefit_id]
    return partners


def exclusions(ctx: Context) -> Finding:
    claim = ctx.claim
    label = "不与互斥项目同时享受"
    for partner, scope, reason in _exclusive_partners(ctx.policies, claim):
        same_person = (
            CLAIMS.c.person_id == claim.person_id if claim.person_id is not None else CLAIMS.c.org_id == claim.org_id
        )
        in_scope = (
            CLAIMS.c.event_date.between(dt.date(claim.event_date.year, 1, 1), dt.date(claim.event_date.year, 12, 31))
            if scope == "calendar_year"
            else CLAIMS.c.id.is_not(None)
        )
        other = ctx.connection.execute(
            select(CLAIMS.c.id, CLAIMS.c.status).where(
                same_person,
                CLAIMS.c.benefit_id == partner,
                CLAIMS.c.status.not_in(DEAD_STATUSES),
                CLAIMS.c.id != claim.id,
                in_scope,
            )
        ).first()
        if other is not None:
            return Finding(
                "exclusions", label, False, f"已有互斥项目的申报 {other.id}（{STATUS_LABELS[other.status]}）：{reason}"
            )
        received = ctx.connection.scalar(
            select(func.sum(LEDGER.c.amount_fen)).where(
                _beneficiary(claim), LEDGER.c.benefit_id == partner, _same_scope(scope, claim)
            )
        )
        if received and received > 0:
            return Finding("exclusions", label, False, f"已享受互斥项目 {format_yuan(int(received))}：{reason}")
    return Finding("exclusions", label, True, "未发现互斥项目的申报或发放")


RULES: tuple[Callable[[Context], Finding], ...] = (
    repeat_key,
    amount,
    eligible,
    exclusions,
    *suspect_checks.RULES,
)


def run_checks(
    connection: Connection, policies: PolicySet, claim: Any, answer: dict[str, Any] | None = None
) -> list[Finding]:
    """Every rule on ``claim`` (a claims row), with the engine's answer recomputed on the claim's day.

    ``answer``: the engine's whole answer for the beneficiary on the claim's day, when the caller has
    just computed it (the monthly run, which drafted from it): not evaluated a second time."""
    entity = claim.beneficiary_kind
    key = claim.person_id if entity == "person" else claim.org_id
    if answer is None:
        _, answer = evaluated(connection, policies, entity, int(key), claim.decided_on)
    found = next(
        (b for b in answer["benefits"] if b["id"] == claim.benefit_id and b["document"] == claim.document_id), None
    )
    ctx = Context(connection, policies, claim, found)
    return [rule(ctx) for rule in RULES]
