"""The decision plan shared by the single-case engine and the population compiler.

Limits ("once per person per calendar year") and exclusions are turned into ordinary rule
expressions over the ledger of benefits received, so both scales decide them with the same code
paths. A receipt counts only if it is dated on or before the evaluation date: evaluating a past
date asks what was due then.
"""

from __future__ import annotations

from dataclasses import dataclass

from bangfu.policy.expressions import Aggregate, BoolOp, CaseVariable, Compare, InValues, Node, RowField
from bangfu.policy.model import Benefit, ExclusionGroup, Policy, blockers, higher_ranked
from bangfu.policy.repeat import all_paid


@dataclass(frozen=True)
class ReceiptCheck:
    """Blocked if the ledger holds one of ``benefit_ids`` within ``scope`` up to the date."""

    reason_code: str  # "limit", "repeat" or the exclusion group id
    benefit_ids: tuple[str, ...]
    scope: str  # "calendar_year" | "ever" | "units" (every unit due already paid)
    expr: Node
    group: ExclusionGroup | None


@dataclass(frozen=True)
class Rival:
    """A higher-ranked member of an exclusion group: if it applies, this benefit is excluded."""

    benefit_id: str
    group: ExclusionGroup


@dataclass(frozen=True)
class BenefitPlan:
    benefit: Benefit
    receipt_checks: tuple[ReceiptCheck, ...]
    rivals: tuple[Rival, ...]


@dataclass(frozen=True)
class ConflictGroup:
    """An exclusion group with no declared precedence: two members applying at once is an error."""

    group: ExclusionGroup


def received_any(benefit_ids: tuple[str, ...], scope: str) -> Node:
    parts: list[Node] = [
        InValues(RowField("received", "benefit", "str"), tuple(benefit_ids), negated=False),
        Compare("<=", RowField("received", "date", "date"), CaseVariable("date", "date")),
    ]
    if scope == "calendar_year":
        parts.append(Compare(">=", RowField("received", "date", "date"), CaseVariable("year_start", "date")))
    return Aggregate("any", "received", BoolOp("and", tuple(parts)), None, None, "bool")


def build_plans(policy: Policy, entity_name: str) -> list[BenefitPlan]:
    plans = []
    for benefit in policy.benefits_for(entity_name):
        checks: list[ReceiptCheck] = []
        if benefit.limit:
            ids = (benefit.id,)
            checks.append(ReceiptCheck("limit", ids, benefit.limit, received_any(ids, benefit.limit), None))
        if benefit.repeat is not None and benefit.repeat.kind.per_unit:
            # every unit due is paid already: the ledger's units limit it, per its repeat key
            checks.append(ReceiptCheck("repeat", (benefit.id,), "units", all_paid(benefit.repeat), None))
        rivals: list[Rival] = []
        for group in policy.groups_of(benefit.id):
            blocking = tuple(blockers(group, benefit.id))
            if blocking:
                checks.append(ReceiptCheck(group.id, blocking, group.scope, received_any(blocking, group.scope), group))
            rivals.extend(Rival(rival, group) for rival in higher_ranked(group, benefit.id))
        plans.append(BenefitPlan(benefit, tuple(checks), tuple(rivals)))
    return plans


def conflict_groups(policy: Policy, entity_name: str) -> list[ConflictGroup]:
    return [
        ConflictGroup(g)
        for g in policy.exclusions
        if not g.precedence and g.kind == "one_of" and policy.benefits[g.members[0]].entity.name == entity_name
    ]
