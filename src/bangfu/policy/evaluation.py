"""Answer one case with every document in force for its place: each document's benefits, grouped.

Each document decides its own benefits (``engine.evaluate_case``): as of the case's date while it is in
force, as of its last day for the events of its period once it has expired. Then the cross-document
exclusions are applied: of members that would both be granted in one scope (a calendar year, or
ever), the one the declaring document names first keeps its grant; a receipt of another member in
the scope blocks the rest. The answer keeps the one-document shape (``policy``, ``benefits[]`` with
their fields) and adds ``documents`` (each with the day it answered for) and ``benefits[].document``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bangfu.policy.case import Case, CaseError
from bangfu.policy.engine import STATUS_LABELS, evaluate_case, policy_summary
from bangfu.policy.loader import PolicyError
from bangfu.policy.model import CrossExclusion, Policy
from bangfu.policy.policy_set import PolicySet

Answer = dict[str, Any]


def evaluate_all(policies: PolicySet, case: Case) -> Answer:
    """Every benefit of every document that answers ``case``, in the order of ``PolicySet.documents``."""
    try:
        documents = policies.documents_for(case.region, case.documents)
    except PolicyError as exc:
        raise CaseError("documents", str(exc)) from exc
    answers = [(document, evaluate_case(document, case)) for document in documents]
    for group in policies.cross_exclusions():
        _exclude_across(group, answers, case, policies)
    shown = [(d, a) for d, a in answers if case.documents or _has_answer(d, a, case.date)]
    last_applied = policies.last_in_force(case.date, case.region)
    if not shown and answers:
        fallback = last_applied.id if last_applied is not None else answers[0][0].id
        shown = [(d, a) for d, a in answers if d.id == fallback]
    primary = shown[0][1]["policy"] if shown else policy_summary(policies.default, case.date)
    in_force = any(d.in_force(case.date) for d, _ in shown)
    return {
        "date": case.date.isoformat(),
        "policy": primary,
        "documents": [{**a["policy"], "decided_on": a["decided_on"]} for _, a in shown],
        "in_force": in_force,
        "last_in_force": None if in_force else _last(last_applied),
        "entity": case.entity.name,
        "region": case.region,
        "benefits": [benefit for _, answer in shown for benefit in answer["benefits"]],
    }


def _has_answer(document: Policy, answer: Answer, day: dt.date) -> bool:
    """In force on the day, or an expired document that still decided an event of its period."""
    return document.in_force(day) or any(b["status"] != "not_in_force" for b in answer["benefits"])


def _last(document: Policy | None) -> dict[str, Any] | None:
    if document is None:
        return None
    return {"id": document.id, "title": document.title, "valid_to": (document.valid_to or dt.date.max).isoformat()}


def _exclude_across(
    group: CrossExclusion, answers: list[tuple[Policy, Answer]], case: Case, policies: PolicySet
) -> None:
    by_member = {(d.id, b["id"]): b for d, a in answers for b in a["benefits"]}
    present = [(member, by_member[member]) for member in group.members if member in by_member]
    received = case.collections.get("received", [])
    for index, ((_, benefit_id), benefit) in enumerate(present):
        if benefit["status"] != "granted":
            continue
        day = dt.date.fromisoformat(benefit["decided_on"])
        winner = next(
            (
                (member, other)
                for member, other in present[:index]
                if other["status"] == "granted" and _same_scope(group, day, dt.date.fromisoformat(other["decided_on"]))
            ),
            None,
        )
        others = {b for (_, b) in group.members if b != benefit_id}
        receipt = next(
            (
                r
                for r in received
                if r.get("benefit") in others
                and r.get("date") is not None
                and r["date"] <= day
                and _same_scope(group, day, r["date"])
            ),
            None,
        )
        if winner is not None:
            (winner_doc, _), other = winner
            title = policies.document(winner_doc).title
            reason = f"与《{title}》的“{other['label']}”不能同时享受，按县里确定的顺序享受该项"
        elif receipt is not None:
            label = _label(policies, group, receipt["benefit"])
            reason = f"{_scope_text(group)}已享受“{label}”"
        else:
            continue
        benefit.update(status="excluded", status_label=STATUS_LABELS["excluded"], amount_fen=0)
        benefit["reasons"] = [f"{reason}：{group.reason}（{group.citation.short()}）"]


def _same_scope(group: CrossExclusion, day: dt.date, other: dt.date) -> bool:
    return group.scope == "ever" or day.year == other.year


def _scope_text(group: CrossExclusion) -> str:
    return "本年度" if group.scope == "calendar_year" else ""


def _label(policies: PolicySet, group: CrossExclusion, benefit_id: str) -> str:
    for policy_id, member in group.members:
        if member == benefit_id:
            return policies.document(policy_id).benefits[member].label
    return benefit_id
