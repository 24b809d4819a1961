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
# The level of government that issued a document, and the length of the region code it covers.
LEVELS = {"province": "省级", "city": "市级", "county": "县级"}
LEVEL_CODE_LENGTHS = {"province": 2, "city": 4, "county": 6}


@dataclass(frozen=True)
class Condition:
    id: str
    label: str
    expr: Node
    text: str
    # what a resident who does not meet it needs, in their words ("需要有劳动能力"); empty: derived
    # from the label by the self-check (web/plain_words.py)
    citizen: str = ""


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
class Event:
    """What happened that a benefit pays for, and its date: the document in force on that date decides.

    ``expr`` is a date expression over the case, evaluated as of the decision date (a trip's first day
    in that year, a course's first day, a hire); ``date`` itself when the benefit is for an application.
    """

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
    event: Event | None = None  # None: the application, dated the evaluation date


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


@dataclass(frozen=True)
class CrossExclusion:
    """Benefits of several documents that may not be combined within ``scope`` (e.g. one transport
    subsidy per person and year, from whichever programme the county names first).

    ``members`` are ``(document id, benefit id)`` in precedence order: when several apply at once the
    first keeps its grant, the others are excluded; a receipt of any member within the scope blocks the rest.
    """

    id: str
    members: tuple[tuple[str, str], ...]
    scope: str
    citation: Citation
    reason: str
    where: str  # the file and key that declared it, for error messages


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
    level: str = "province"  # LEVELS
    region: str = "14"  # the GB/T 2260 code (2, 4 or 6 digits) of the area it covers
    # Non-empty: the document's values await the official text (a placeholder); shown to users as such.
    placeholder: str = ""
    cross_exclusions: tuple[CrossExclusion, ...] = ()
    source_note: str = ""  # where the text comes from (a bundled worked example names its sources)
    # The id of the document this one is a new version of (its validity must not overlap; PolicySet checks).
    replaces: str = ""

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def covers(self, region: str | None) -> bool:
        """Whether the document answers a case in ``region`` (a county code; None: unknown).

        A province's document answers every case, as it always has: its own conditions say who it is for
        (hukou in Shanxi, work outside it). A city's or county's answers only cases in its area.
        """
        if self.level == "province":
            return True
        return region is not None and region.startswith(self.region)

    def decision_day(self, day: dt.date) -> dt.date | None:
        """The day the document answers for when asked on ``day``: that day while it is in force, its last
        day once it has expired (events of its period are still decided by it), None before it starts."""
        if day < self.valid_from:
            return None
        if self.valid_to is not None and day > self.valid_to:
            return self.valid_to
        return day

    def benefits_for(self, entity_name: str) -> list[Benefit]:
        return [self.benefits[b] for b in self.evaluation_order if self.benefits[b].entity.name == entity_name]

    def resolve(self, key: str, day: dt.date, region: str | None) -> Resolved:
        return self.parameters[key].resolve(day, region)

    def groups_of(self, benefit_id: str) -> list[ExclusionGroup]:
        return [g for g in self.exclusions if benefit_id in g.members]

    def case_variables(self, day: dt.date, asked_on: dt.date | None = None) -> dict[str, object]:
        """The names a rule may use besides facts and parameters, for one evaluation date."""
        return {
            "date": day,
            "year_start": dt.date(day.year, 1, 1),
            "year_end": dt.date(day.year, 12, 31),
            "valid_from": self.valid_from,
            "asked_on": asked_on or day,
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
