"""A policy described for people: provisions, clauses, validity, parameters and local standards."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bangfu.policy.model import FUNDS, LEVELS, LIMIT_SCOPES, Policy
from bangfu.policy.parameters import format_value


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
        "replaces": policy.replaces or None,
        "source": policy.source_note or None,
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
            }
            for p in policy.parameters.values()
        ],
    }
