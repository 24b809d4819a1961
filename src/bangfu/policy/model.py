"""A policy as loaded: its validity, parameters, benefit rules and exclusions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bangfu.policy.expressions import Node
from bangfu.policy.facts import Entity
from bangfu.policy.parameters import Citation, Parameter, Resolved
from bangfu.policy.repeat import Repeat

FUNDS = {
    "revitalization": "衔接推进乡村振兴补助资金",
    "employment": "就业补助资金",
    "unemployment_insurance": "失业保险基金",
    "none": "不涉及资金",
}
LIMIT_SCOPES = {"calendar_year": "每年度", "ever": "仅一次"}


@dataclass(frozen=True)
class Condition:
    id: str
    label: str
    expr: Node
    text: str


@dataclass(frozen=True)
class Detail:
    """An extra output of a benefit (e.g. priority for a welfare post), explained like an amount."""

    id: str
    label: str
    expr: Node
    text: str


@dataclass(frozen=True)
class PriorityRank:
    """One step of a benefit's priority order: the first rank whose ``when`` holds is the case's rank.

    Priority is not eligibility: "优先安置……" orders the eligible, it refuses no one (（十二）).
    """

    rank: int
    label: str
    expr: Node
    text: str


@dataclass(frozen=True)
class Benefit:
    id: str
    label: str
    entity: Entity
    clause: str
    fund: str
    conditions: tuple[Condition, ...]
    amount: Node
    amount_text: str
    amount_label: str
    limit: str | None  # "calendar_year" | "ever" | None: once per person/organization per scope
    details: tuple[Detail, ...] = ()
    applies_to_kinds: tuple[str, ...] = ()
    note: str = ""
    repeat: Repeat | None = None  # per what it may be paid again (policy/repeat.py)
    priority: tuple[PriorityRank, ...] = ()


@dataclass(frozen=True)
class ExclusionGroup:
    """Benefits that may not be combined within ``scope``.

    ``one_of``: at most one member per scope; a receipt of any member blocks the others.
    ``supersedes``: the first member excludes the rest, but not the other way round.
    ``precedence`` (member ids, highest first) decides when several apply at once; without it,
    two members applying together is a conflict the policy must resolve — an error, never a pick.
    """

    id: str
    kind: str
    members: tuple[str, ...]
    precedence: tuple[str, ...]
    scope: str
    citation: Citation
    reason: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one loaded policy, many lookups
class Policy:
    id: str
    title: str
    issuer: str
    valid_from: dt.date
    valid_to: dt.date | None
    validity_note: str
    citation: Citation
    parameters: dict[str, Parameter]
    benefits: dict[str, Benefit]
    exclusions: tuple[ExclusionGroup, ...]
    key_counties: frozenset[str]
    key_counties_note: str
    source_dir: str = ""
    tests_dir: str = ""
    evaluation_order: tuple[str, ...] = field(default=())

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def benefits_for(self, entity_name: str) -> list[Benefit]:
        return [self.benefits[b] for b in self.evaluation_order if self.benefits[b].entity.name == entity_name]

    def resolve(self, key: str, day: dt.date, region: str | None) -> Resolved:
        return self.parameters[key].resolve(day, region)

    def groups_of(self, benefit_id: str) -> list[ExclusionGroup]:
        return [g for g in self.exclusions if benefit_id in g.members]

    def case_variables(self, day: dt.date) -> dict[str, object]:
        """The names a rule may use besides facts and parameters, for one evaluation date."""
        return {
            "date": day,
            "year_start": dt.date(day.year, 1, 1),
            "year_end": dt.date(day.year, 12, 31),
            "valid_from": self.valid_from,
        }

    def validity_text(self) -> str:
        end = self.valid_to.isoformat() if self.valid_to else "长期"
        return f"{self.valid_from.isoformat()} 至 {end}"


def blockers(group: ExclusionGroup, benefit_id: str) -> list[str]:
    """Members whose earlier receipt blocks ``benefit_id``."""
    if group.kind == "one_of":
        return [m for m in group.members if m != benefit_id]
    index = group.members.index(benefit_id)
    return list(group.members[:index])


def higher_ranked(group: ExclusionGroup, benefit_id: str) -> list[str]:
    """Members that win over ``benefit_id`` when both apply at once."""
    order = group.precedence or (group.members if group.kind == "supersedes" else ())
    if benefit_id not in order:
        return []
    return list(order[: order.index(benefit_id)])
