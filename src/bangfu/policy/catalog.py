"""A policy described for people: provisions, clauses, validity, parameters and local standards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bangfu.policy.model import FUNDS, LEVELS, LIMIT_SCOPES, Policy
from bangfu.policy.parameters import format_value
from bangfu.policy.policy_set import PolicySet

# Where a document stands on a day for a viewer's region, in the order pages and the API list them:
# what applies here now, what applies elsewhere now, what is coming, what has ended (still reachable
# for past dates).
DOCUMENT_STATES = {
    "in_force": "今日执行中",
    "in_force_elsewhere": "其他地区今日执行中",
    "upcoming": "即将施行",
    "expired": "已结束",
}


def describe_policy(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "title": policy.title,
        "issuer": policy.issuer,
        "valid_from": policy.valid_from.isoformat(),
        "valid_to": policy.valid_to.isoformat() if policy.valid_to else None,
        "validity_note": policy.validity_note,
        # added with several documents in force (ADR 0020): where and at which level it applies, whether
        # its values await the official text, which document it is a new version of, where it comes from
        "level": policy.level,
        "level_label": LEVELS[policy.level],
        "region": policy.region,
        "placeholder": policy.placeholder or None,
        "source_note": policy.source_note or None,
        "replaces": policy.replaces or None,
        "key_counties": sorted(policy.key_counties),
        "key_counties_note": policy.key_counties_note,
        "benefits": [
            {
                "id": b.id,
                "label": b.label,
                "entity": b.entity.name,
                "clause": b.clause,
                "fund": b.fund,
                "fund_label": FUNDS[b.fund],
                # per what it may be paid again (ADR 0015); the older ``limit`` wording where none is declared
                "limit": b.repeat.kind.label if b.repeat else LIMIT_SCOPES.get(b.limit or "", "不限"),
                "repeat": b.repeat.per if b.repeat else None,
                "due": b.repeat.due_text if b.repeat else "",
                "priority": [{"rank": p.rank, "label": p.label, "rule": p.text} for p in b.priority],
                "conditions": [{"id": c.id, "label": c.label, "rule": c.text} for c in b.conditions],
                "amount": b.amount_text,
                "note": b.note,
            }
            for b in (policy.benefits[i] for i in policy.evaluation_order)
        ],
        "exclusions": [
            {
                "id": g.id,
                "kind": g.kind,
                "members": list(g.members),
                "precedence": list(g.precedence),
                "scope": g.scope,
                "clause": g.citation.clause,
                "reason": g.reason,
            }
            for g in policy.exclusions
        ],
        # added with several documents in force (ADR 0020): benefits of several documents not to be
        # combined, members "document:benefit" in the order of precedence
        "cross_exclusions": [
            {
                "id": g.id,
                "members": [f"{document}:{benefit}" for document, benefit in g.members],
                "scope": g.scope,
                "clause": g.citation.clause,
                "reason": g.reason,
            }
            for g in policy.cross_exclusions
        ],
        "parameters": [
            {
                "key": p.key,
                "label": p.label,
                "unit": p.unit,
                "clause": p.citation.clause,
                "quote": p.citation.quote,
                "set_by": p.set_by,
                "values": [
                    {
                        "from": v.start.isoformat(),
                        "to": v.end.isoformat() if v.end else None,
                        "value": v.value.isoformat() if isinstance(v.value, dt.date) else v.value,
                        "display": format_value(v.value, p.unit),
                    }
                    for v in p.values
                ],
                "regions": sorted(p.overrides),
                "note": p.note,
                # a standard the text only points to: shown as such, never as a gap to fill
                "informational": p.informational,
                # added with several documents in force (ADR 0020): a value awaiting the official text
                "placeholder": p.placeholder,
            }
            for p in policy.parameters.values()
        ],
    }


def document_state(policy: Policy, day: dt.date, region: str | None) -> str:
    """One of DOCUMENT_STATES. ``region`` is the viewer's (None: anyone, every area counts as theirs):
    a document is theirs when it covers the region or lies within it (a province account sees its
    counties' programmes as its own)."""
    if day < policy.valid_from:
        return "upcoming"
    if not policy.in_force(day):
        return "expired"
    if region is None or policy.covers(region) or policy.region.startswith(region):
        return "in_force"
    return "in_force_elsewhere"


def describe_set(policies: PolicySet, day: dt.date, region: str | None = None) -> list[dict[str, Any]]:
    """Every document of the set described, with its state on ``day`` for ``region``: in force there
    first, then in force elsewhere, upcoming, expired; within a state the set's order (province first)."""
    described = [
        {**describe_policy(document), "state": state, "in_force": state.startswith("in_force")}
        for document, state in ((d, document_state(d, day, region)) for d in policies.documents)
    ]
    order = list(DOCUMENT_STATES)
    return sorted(described, key=lambda entry: order.index(entry["state"]))
