"""What the claim pages and the claims API do, once: who may act, the stale-form guard, and the calls
into ``claims.decisions`` and ``claims.drafting`` (which make every transition and its audit entry).

A refusal is a ``Refused`` with the HTTP status, the Chinese message and the form field it is about;
nothing has changed when one is raised (the caller's transaction is rolled back or never written).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from bangfu.access.permissions import CLAIMS_DECIDE, CLAIMS_DRAFT, CLAIMS_OVERRIDE, REFUSALS, holds
from bangfu.accounts.users import Account
from bangfu.claims import decisions
from bangfu.claims.decisions import Actor
from bangfu.claims.drafting import draft_claim, evaluated
from bangfu.claims.queue import ClaimDetail, claim_detail
from bangfu.claims.records import STATUS_LABELS, ClaimError
from bangfu.policy.policy_set import PolicySet
from bangfu.registry import queries
from bangfu.web.deps import Viewer

Action = Literal["approve", "reject", "return", "withdraw"]
ACTION_LABELS: dict[str, str] = {"approve": "批准", "reject": "驳回", "return": "退回修改", "withdraw": "撤回"}
# The statuses each action starts from (decisions.py holds the same rule; offered only where it applies).
ACTION_FROM: dict[str, tuple[str, ...]] = {
    "approve": ("checked",),
    "reject": ("drafted", "checked", "returned", "approved"),
    "return": ("drafted", "checked", "approved"),
    "withdraw": ("drafted", "checked", "returned"),
}
NOT_FOUND = "未找到该申报（或不在您的地区范围内）"
REASON_LIMIT = 500


@dataclass
class Refused(Exception):
    """An action refused: the HTTP status, the message, and the form field it is about (None: the form)."""

    status_code: int
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message


def may_act(account: Account, action: str, detail: ClaimDetail) -> bool:
    """Whether the account may take ``action`` on the claim at all (its status aside)."""
    if action == "withdraw":
        return holds(account.role, CLAIMS_DECIDE) or (
            holds(account.role, CLAIMS_DRAFT) and detail.summary.maker == account.username
        )
    return holds(account.role, CLAIMS_DECIDE)


def actions_for(account: Account, detail: ClaimDetail) -> list[str]:
    """The actions the page offers: allowed for the account and possible from the claim's status."""
    offered = [a for a in ACTION_LABELS if detail.summary.status in ACTION_FROM[a] and may_act(account, a, detail)]
    if "approve" in offered and detail.summary.maker == account.username:
        offered.remove("approve")  # maker-checker: the page does not offer what decisions.py refuses
    return offered


def act(
    connection: Connection,
    viewer: Viewer,
    policies: PolicySet,
    claim_id: int,
    action: str,
    *,
    reason: str = "",
    seen_status: str = "",
) -> str:
    """Take ``action`` on a claim in the viewer's scope; the message saying what was done, or Refused."""
    account = viewer.account
    detail = claim_detail(connection, viewer.scope, account.username, policies, claim_id)
    if detail is None:
        raise Refused(404, NOT_FOUND)
    if action not in ACTION_LABELS:
        raise Refused(404, f"没有“{action}”这种申报操作")
    if not may_act(account, action, detail):
        raise Refused(403, REFUSALS[CLAIMS_DECIDE] if action != "withdraw" else "只有起草人或审批人员可以撤回申报")
    status = detail.summary.status
    if seen_status and seen_status != status:
        raise Refused(
            409,
            f"申报 {claim_id} 已被他人处理：您打开页面时为“{STATUS_LABELS.get(seen_status, seen_status)}”，"
            f"现为“{STATUS_LABELS[status]}”。本次操作未生效，请查看最新状态后再决定",
        )
    text = reason.strip()
    if len(text) > REASON_LIMIT:
        raise Refused(422, f"原因最多 {REASON_LIMIT} 个字，现有 {len(text)} 个", "reason")
    # The maker approving their own claim goes straight to decisions.py, which refuses it (maker-checker).
    own = action == "approve" and detail.summary.maker == account.username
    needs_reason = action != "approve" or (status == "checked" and detail.summary.flagged)
    if needs_reason and not text and not own:
        what = "例外批准未通过自动审核的申报" if action == "approve" else ACTION_LABELS[action]
        raise Refused(422, f"{what}须写明原因：请在“原因”栏填写", "reason")
    if action == "approve" and not own and detail.summary.flagged and not holds(account.role, CLAIMS_OVERRIDE):
        raise Refused(403, REFUSALS[CLAIMS_OVERRIDE])
    actor = Actor(account.username, may_override=holds(account.role, CLAIMS_OVERRIDE))
    try:
        # A savepoint: a refusal midway leaves nothing behind, and the page is answered in this transaction.
        with connection.begin_nested():
            _decide(connection, claim_id, action, actor, text)
    except ClaimError as exc:
        raise Refused(403 if own else 409, str(exc)) from None
    return f"申报 {claim_id} 已{ACTION_LABELS[action]}"


def _decide(connection: Connection, claim_id: int, action: str, actor: Actor, reason: str) -> None:
    if action == "approve":
        decisions.approve(connection, claim_id, actor, override=reason or None)
    elif action == "reject":
        decisions.reject(connection, claim_id, actor, reason)
    elif action == "return":
        decisions.return_for_correction(connection, claim_id, actor, reason)
    else:
        decisions.withdraw(connection, claim_id, actor, reason)


@dataclass(frozen=True)
class Offer:
    """A benefit the engine grants a person today that can be claimed: the form's choice."""

    choice: str  # "document|benefit"
    document_title: str
    label: str
    amount_fen: int
    fund: str
    reasons: list[str]
    repeat_label: str


def offers(connection: Connection, policies: PolicySet, person_id: int, day: dt.date) -> list[Offer]:
    """What the engine grants the person on ``day`` that pays money (as the person page evaluates it)."""
    _, answer = evaluated(connection, policies, "person", person_id, day)
    titles = {d["id"]: d["title"] for d in answer["documents"]}
    found = []
    for benefit in answer["benefits"]:
        per = (benefit.get("repeat") or {}).get("per")
        if benefit["status"] != "granted" or benefit["amount_fen"] <= 0 or per in (None, "not_paid"):
            continue
        found.append(
            Offer(
                choice=f"{benefit['document']}|{benefit['id']}",
                document_title=titles.get(benefit["document"], ""),
                label=benefit["label"],
                amount_fen=benefit["amount_fen"],
                fund=benefit["fund"],
                reasons=list(benefit.get("reasons") or []),
                repeat_label=(benefit.get("repeat") or {}).get("label", ""),
            )
        )
    return found


def draft(
    connection: Connection, viewer: Viewer, policies: PolicySet, person_id: int, choice: str, day: dt.date
) -> int:
    """An application for a person in the viewer's scope: drafted (maker: the viewer) and auto-checked,
    so it waits in the county's queue. Refused when already claimed under the same money key."""
    account = viewer.account
    if not holds(account.role, CLAIMS_DRAFT):
        raise Refused(403, REFUSALS[CLAIMS_DRAFT])
    if queries.person_detail(connection, viewer.scope, person_id, policies, day) is None:
        raise Refused(404, "未找到该人员（或不在您的地区范围内）")
    document_id, _, benefit_id = choice.partition("|")
    if not benefit_id:
        raise Refused(422, "请选择一项要申报的补贴", "benefit")
    if all(o.choice != choice for o in offers(connection, policies, person_id, day)):
        raise Refused(422, "所选补贴按政策今天不能为该人员申报（或已不在政策中）：请刷新后重新选择", "benefit")
    actor = Actor(account.username)
    try:
        # A savepoint: a refused draft (a money key already held) leaves nothing behind.
        with connection.begin_nested():
            claim_id = draft_claim(
                connection,
                policies,
                entity="person",
                key=person_id,
                benefit_id=benefit_id,
                document_id=document_id,
                day=day,
                actor=account.username,
            )
            decisions.check_claim(connection, policies, claim_id, actor)
    except ClaimError as exc:
        raise Refused(409, str(exc), "benefit") from None
    return claim_id
