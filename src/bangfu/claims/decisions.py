"""What people do to a claim: check, approve (maker-checker), return, correct, reject, withdraw.

Every action is one conditional status change with its claim event and audit entry (records.py), in
the caller's transaction. The approver is never the maker: refused here with a message, and by a
CHECK constraint (``approver <> maker``) should any other writer try.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from bangfu.claims import budgets
from bangfu.claims.checks import run_checks
from bangfu.claims.drafting import Payee, payee_values, valid_account
from bangfu.claims.gates import CITY_REVIEW_REASON, CLEARED, gates_at_approval
from bangfu.claims.records import (
    CHUNK,
    CLAIMS,
    STATUS_LABELS,
    ClaimError,
    claim_row,
    now,
    record_event,
    transition,
    transition_many,
)
from bangfu.claims.suspect_checks import account_finding
from bangfu.core.account_cipher import AccountCipher, masked, normalised
from bangfu.policy.policy_set import PolicySet
from bangfu.registry.imports.upsert.bulk_io import id_in

EDITABLE = ("drafted", "checked", "returned")


@dataclass(frozen=True)
class Actor:
    """Who acts: the account name, whether it may approve a flagged claim (an override), and the
    account's role and region (None for the server's operator acting without an account)."""

    name: str
    may_override: bool = False
    role: str | None = None
    region: str | None = None


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ClaimError(f"{what}必须写明原因")
    return text


def check_claim(
    connection: Connection,
    policies: PolicySet,
    claim_id: int,
    actor: Actor,
    answer: dict[str, Any] | None = None,
) -> bool:
    """Run the auto-checks on a drafted claim; it becomes ``checked``, flagged when a rule failed. Returns flagged.

    ``answer``: the engine's answer for the beneficiary on the claim's decision day, if already at hand."""
    claim = claim_row(connection, claim_id)
    if claim.status != "drafted":
        raise ClaimError(f"申报 {claim_id} 不是“已起草”状态，不能自动审核")
    findings = run_checks(connection, policies, claim, answer)
    failed = [f for f in findings if not f.passed]
    results = json.dumps([f.as_json() for f in findings], ensure_ascii=False)
    reason = "；".join(f"{f.label}：{f.reason}" for f in failed) if failed else "全部自动审核规则通过"
    transition(
        connection,
        claim_id,
        actor=actor.name,
        allowed_from=("drafted",),
        to_status="checked",
        reason=reason,
        values={"check_results": results, "flagged": bool(failed)},
        details={"flagged": bool(failed), "failed_rules": [f.rule for f in failed]},
    )
    return bool(failed)


def approve(connection: Connection, claim_id: int, actor: Actor, override: str | None = None) -> None:
    """Approve a checked claim. Not by its maker; a flagged claim only with an override reason, by an
    account allowed to override; never past its budget (budgets.py: no budget or too little left refuses
    it). Two approvers at once: the conditional update lets exactly one through."""
    claim = claim_row(connection, claim_id)
    if claim.maker == actor.name:
        raise ClaimError(f"申报 {claim_id} 由 {actor.name} 起草，审批须由另一名工作人员进行（经办与审批分离）")
    details: dict[str, object] = {}
    if claim.status == "checked" and claim.flagged:
        if not actor.may_override:
            raise ClaimError(f"申报 {claim_id} 未通过自动审核，只有具备“审核例外批准”权限的账户可以批准")
        details["override"] = _reason(override, f"批准未通过自动审核的申报 {claim_id} ")
    gates = gates_at_approval(connection, claim)
    if gates["city_review"]:
        details["city_review"] = CITY_REVIEW_REASON
    if gates["posting_days"]:
        details["posting_days"] = gates["posting_days"]
    if claim.status == "checked":
        # Locks the budget row first: a concurrent approval under the same budget waits here, then
        # counts this claim as committed (budgets.py). A claim no longer checked is refused below.
        budgets.check_approval(connection, claim)
    transition(
        connection,
        claim_id,
        actor=actor.name,
        allowed_from=("checked",),
        to_status="approved",
        reason=f"例外批准：{details['override']}" if "override" in details else "批准",
        values={"approver": actor.name, **gates},
        details=details,
        also=CLAIMS.c.maker != actor.name,
    )


def approve_many(connection: Connection, claim_ids: list[int], actor: Actor, override: str | None = None) -> int:
    """``approve`` for many claims at once, all or none (a ``ClaimError`` names the first refused),
    set-based: the same rules, gates, events and audit entries, written a few statements at a time."""
    claims: dict[int, Any] = {}
    wanted = list(dict.fromkeys(claim_ids))
    for first in range(0, len(wanted), CHUNK):
        for row in connection.execute(
            select(CLAIMS).where(id_in(connection, CLAIMS.c.id, wanted[first : first + CHUNK]))
        ):
            claims[row.id] = row
    groups: dict[tuple[tuple[str, Any], ...], list[Any]] = {}
    details: dict[int, dict[str, object]] = {}
    for claim_id in wanted:
        claim = claims.get(claim_id)
        if claim is None:
            raise ClaimError(f"没有编号为 {claim_id} 的申报")
        if claim.maker == actor.name:
            raise ClaimError(f"申报 {claim_id} 由 {actor.name} 起草，审批须由另一名工作人员进行（经办与审批分离）")
        if claim.status != "checked":
            raise ClaimError(
                f"申报 {claim_id} 当前状态为“{STATUS_LABELS[claim.status]}”，只有“已自动审核”的申报才能改为“已批准”"
            )
        found: dict[str, object] = {}
        if claim.flagged:
            if not actor.may_override:
                raise ClaimError(f"申报 {claim_id} 未通过自动审核，只有具备“审核例外批准”权限的账户可以批准")
            found["override"] = _reason(override, f"批准未通过自动审核的申报 {claim_id} ")
        gates = gates_at_approval(connection, claim)
        if gates["city_review"]:
            found["city_review"] = CITY_REVIEW_REASON
        if gates["posting_days"]:
            found["posting_days"] = gates["posting_days"]
        details[claim_id] = found
        groups.setdefault(tuple(sorted(gates.items())), []).append(claim)
    moved = 0
    for gates_key, members in groups.items():
        moved += len(
            transition_many(
                connection,
                members,
                actor=actor.name,
                from_status="checked",
                to_status="approved",
                reason=lambda c: f"例外批准：{details[c.id]['override']}" if "override" in details[c.id] else "批准",
                details=lambda c: details[c.id],
                also=CLAIMS.c.maker != actor.name,
                values={"approver": actor.name, **dict(gates_key)},
            )
        )
    if moved != len(wanted):
        raise ClaimError("部分申报已被他人同时处理（状态已变），本次批准全部未生效，请刷新后查看")
    return moved


def return_for_correction(connection: Connection, claim_id: int, actor: Actor, reason: str) -> None:
    transition(
        connection,
        claim_id,
        actor=actor.name,
        allowed_from=("drafted", "checked", "approved"),
        to_status="returned",
        reason=_reason(reason, "退回修改"),
        # Approved again later, it passes the city review and the 公示 again.
        values={"approver": None, **CLEARED},
    )


def correct(
    connection: Connection,
    claim_id: int,
    actor: Actor,
    *,
    reason: str,
    amount_fen: int | None = None,
    payee: Payee | None = None,
    cipher: AccountCipher | None = None,
) -> None:
    """A returned claim corrected and drafted again (to be checked again); what changed is on record."""
    claim = claim_row(connection, claim_id)
    values: dict[str, object] = {}
    if amount_fen is not None:
        if amount_fen <= 0:
            raise ClaimError("申报金额必须大于 0")
        values["amount_fen"] = amount_fen
    if payee is not None:
        values.update(payee_values(payee, cipher))
    transition(
        connection,
        claim_id,
        actor=actor.name,
        allowed_from=("returned",),
        to_status="drafted",
        reason=_reason(reason, "修改申报"),
        values={**values, "check_results": None, "flagged": False},
        details={"amount_fen": {"before": claim.amount_fen, "after": amount_fen}} if amount_fen is not None else {},
    )


def set_payee(
    connection: Connection, claim_id: int, actor: Actor, payee: Payee, *, cipher: AccountCipher | None = None
) -> None:
    """Record where a not yet batched claim is paid: the account stored encrypted (ADR 0035), written
    to the audit log masked."""
    claim = claim_row(connection, claim_id)
    if claim.status not in (*EDITABLE, "approved", "failed"):
        raise ClaimError(f"申报 {claim_id} 已列入支付批次或已结束，不能修改收款账户")
    account = valid_account(payee.account)
    if not payee.name.strip():
        raise ClaimError("请写明收款人（户名）")
    sealed = payee_values(payee, cipher)
    values: dict[str, object] = {}
    if claim.status == "checked" and claim.check_results:
        # Checked but not approved: the account rule is judged again on the new account, so an account
        # shared with unrelated claimants still needs the recorded override (ADR 0034).
        values = recheck_account(connection, claim, sealed["payee_account_hmac"], sealed["payee_account_tail"])
    changed = connection.execute(
        update(CLAIMS)
        .where(CLAIMS.c.id == claim_id, CLAIMS.c.status == claim.status)
        .values(**sealed, updated_at=now(), **values)
    ).rowcount
    if changed != 1:
        raise ClaimError(f"申报 {claim_id} 已被他人同时处理（状态已变），收款账户未登记，请刷新后查看")
    record_event(
        connection,
        claim,
        actor=actor.name,
        from_status=claim.status,
        to_status=claim.status,
        reason="登记收款账户",
        details={"payee_name": payee.name, "payee_account": masked_account(account)},
    )


def recheck_account(connection: Connection, claim: Any, account_hmac: str, tail: str) -> dict[str, object]:
    """The check results and flag of a checked claim with its ``shared_account`` finding judged anew."""
    finding = account_finding(connection, claim, account_hmac, tail)
    results = [f for f in json.loads(claim.check_results) if f["rule"] != finding.rule] + [finding.as_json()]
    return {
        "check_results": json.dumps(results, ensure_ascii=False),
        "flagged": any(not f["passed"] for f in results),
    }


def reject(connection: Connection, claim_id: int, actor: Actor, reason: str) -> None:
    transition(
        connection,
        claim_id,
        actor=actor.name,
        allowed_from=(*EDITABLE, "approved"),
        to_status="rejected",
        reason=_reason(reason, "驳回"),
    )


def withdraw(connection: Connection, claim_id: int, actor: Actor, reason: str) -> None:
    transition(
        connection,
        claim_id,
        actor=actor.name,
        allowed_from=EDITABLE,
        to_status="withdrawn",
        reason=_reason(reason, "撤回"),
    )


def masked_account(account: str | None) -> str:
    """An account number as every screen shows it: the last four digits only (one masking policy:
    stored accounts keep exactly these four digits in the clear, ``payee_account_tail``)."""
    if not account:
        return ""
    return masked(normalised(account)[-4:])
