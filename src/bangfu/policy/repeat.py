"""Per what a benefit may be paid again: its repeat key.

Every benefit of a policy declares ``repeat.per`` (docs/policy-authoring.md). Two families:

- once per beneficiary (``person``, ``organization``) or per beneficiary and calendar year
  (``person_year``): a receipt of the benefit in that scope blocks it (the ledger's ``benefit`` and
  ``date`` say enough);
- per unit (``course_day``, ``trainee_month``, ``hire``, ``placement``): the benefit is due for
  units — days trained, months of 以工代训, persons hired or exported — and the rule says how many
  are due up to the evaluation date (``repeat.due``). What the ledger already paid for the benefit
  (``received.units``) is taken off, so a unit is never paid twice; ``unpaid_units`` in the amount
  is what is left, and a case whose due units are all paid is ``excluded``.

``repeat_key`` gives the tuple under which one payment is unique; the claims ledger enforces the
same tuple (a unique key), so the rules and the database agree on what "paid twice" means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bangfu.policy.expressions import Aggregate, Arith, BoolOp, CaseVariable, Compare, Extreme, Literal, Node, RowField


@dataclass(frozen=True)
class RepeatKind:
    label: str  # how an official reads it, e.g. 每人每个培训日一次
    entity: str | None  # person | organization | None (either)
    limit: str | None  # the ledger scope of a whole-beneficiary limit: "ever" | "calendar_year" | None
    unit_fields: tuple[str, ...]  # what identifies one unit, after the beneficiary
    unit_label: str = ""  # the unit of ``received.units`` (天, 个月, 人)

    @property
    def per_unit(self) -> bool:
        return self.limit is None and bool(self.unit_fields)


REPEAT_KINDS: dict[str, RepeatKind] = {
    "person": RepeatKind("每人仅一次", "person", "ever", ()),
    "person_year": RepeatKind("每人每年度一次", "person", "calendar_year", ("year",)),
    "organization": RepeatKind("每个单位仅一次", "organization", "ever", ()),
    "course_day": RepeatKind("每人每个培训日一次", "person", None, ("course", "day"), "天"),
    "trainee_month": RepeatKind("每名学员每月一次", "organization", None, ("trainee", "month"), "个月"),
    "hire": RepeatKind("每吸纳一人（或一户）一次", "organization", None, ("hired",), "人（户）"),
    "placement": RepeatKind("每输出一人一次", "organization", None, ("placed",), "人"),
    "not_paid": RepeatKind("不涉及发放（资格认定或服务）", None, None, ()),
}


@dataclass(frozen=True)
class Repeat:
    """A benefit's declared repeat key; for per-unit kinds, the units due and those left unpaid."""

    per: str
    due: Node | None = None
    due_text: str = ""
    unpaid: Node | None = None

    @property
    def kind(self) -> RepeatKind:
        return REPEAT_KINDS[self.per]


def paid_units(benefit_id: str) -> Node:
    """Units of ``benefit_id`` the ledger paid up to the evaluation date (unknown if a count is missing)."""
    where = BoolOp(
        "and",
        (
            Compare("==", RowField("received", "benefit", "str"), Literal(benefit_id, "str")),
            Compare("<=", RowField("received", "date", "date"), CaseVariable("date", "date")),
        ),
    )
    return Aggregate("sum", "received", RowField("received", "units", "int"), where, None, "int")


def unpaid_units(benefit_id: str, due: Node) -> Node:
    """``max(0, due - paid)``: the units still to pay (never negative, whatever the ledger holds)."""
    return Extreme("max", (Literal(0, "int"), Arith("-", due, paid_units(benefit_id))), "int")


def all_paid(repeat: Repeat) -> Node:
    """True when some unit is due and every due unit was already paid: a repeat, never granted."""
    assert repeat.due is not None and repeat.unpaid is not None
    return BoolOp(
        "and",
        (Compare(">=", repeat.due, Literal(1, "int")), Compare("<", repeat.unpaid, Literal(1, "int"))),
    )


def repeat_key(
    policy_id: str, benefit_id: str, per: str, beneficiary: str, unit: Mapping[str, object] | None = None
) -> tuple[str, ...]:
    """The tuple under which one payment of a benefit is unique: paying it twice is a repeat.

    ``(policy, benefit, beneficiary, *unit)`` where ``unit`` names what the payment is for, by
    the kind's ``unit_fields``: ``{"year": 2024}`` (person_year), ``{"course": "<course id>",
    "day": date}`` (course_day), ``{"trainee": "<person id>", "month": date}`` (trainee_month, any
    day of the month), ``{"hired": "<person id>"}`` (hire), ``{"placed": "<person id>"}``
    (placement). Dates are written ISO (a month as ``YYYY-MM``), so equal units give equal keys.
    """
    kind = REPEAT_KINDS.get(per)
    if kind is None:
        raise ValueError(f"未知的重复计发依据 {per!r}；可用的有：{', '.join(REPEAT_KINDS)}")
    if per == "not_paid":
        raise ValueError("该项目不涉及发放，没有重复计发依据")
    given = unit or {}
    missing = [f for f in kind.unit_fields if given.get(f) in (None, "")]
    if missing:
        raise ValueError(f"{per} 的计发单位缺少 {', '.join(missing)}")
    return (policy_id, benefit_id, str(beneficiary), *(_text(f, given[f]) for f in kind.unit_fields))


def _text(name: str, value: object) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m") if name == "month" else value.isoformat()
    return str(value)
