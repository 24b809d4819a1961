"""The money key of a claim: the benefit's repeat key (policy/repeat.py) as stored strings.

Whole-beneficiary kinds (``person``, ``person_year``, ``organization``) give one key per claim:
``policy|benefit|p<person id>|2024``. Per-unit kinds (course days, trainee-months, hires,
placements) give one key per unit. The registry holds counts (persons absorbed, days trained), not
the identity of each unit, so units are numbered in the order they are claimed: a claim for 3 days
when the ledger paid 10 and live claims hold 2 more takes units 13, 14 and 15. Two claims for the
same unpaid units then take the same numbers, and the unique index refuses the second (ADR 0031).
"""

from __future__ import annotations

import datetime as dt

from bangfu.policy.repeat import REPEAT_KINDS, repeat_key

SEPARATOR = "|"


def beneficiary(kind: str, key: int) -> str:
    return f"{'p' if kind == 'person' else 'o'}{key}"


def per_unit(per: str) -> bool:
    kind = REPEAT_KINDS.get(per)
    return kind is not None and kind.per_unit


def whole_key(policy_id: str, benefit_id: str, per: str, who: str, event_date: dt.date) -> str:
    """The key of a benefit paid once per beneficiary (and year, for ``person_year``)."""
    unit: dict[str, object] = {"year": event_date.year} if per == "person_year" else {}
    return SEPARATOR.join(repeat_key(policy_id, benefit_id, per, who, unit))


def unit_keys(policy_id: str, benefit_id: str, per: str, who: str, first: int, count: int) -> list[str]:
    """The keys of units ``first`` … ``first + count - 1`` of a per-unit benefit."""
    if per not in REPEAT_KINDS or not REPEAT_KINDS[per].per_unit:
        raise ValueError(f"{per} 不是按单位计发的重复计发依据")
    prefix = SEPARATOR.join((policy_id, benefit_id, who, per))
    return [f"{prefix}#{n}" for n in range(first, first + count)]
