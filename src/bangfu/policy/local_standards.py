"""Local standards: the values a city or county sets for a parameter the document leaves to it (ADR 0023).

The document declares who owns a standard (``set_by: city|county``; ``county_may_override: true``
lets a county set its own where the city's applies) and the plausible values (``range``). What was
set is kept as rows that are never changed: a value holds from its ``valid_from`` until its own
``valid_to`` or until the next value of the same region begins, whichever comes first; of two rows
beginning on the same day the later one counts (a correction). This module decides who may set what
and lays the rows over the documents' parameters (``Parameter.with_override``); the database side is
``policy_admin/local_standards.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from bangfu.core import regions
from bangfu.policy.model import LEVELS, Policy
from bangfu.policy.parameters import Citation, DatedValue, Parameter, format_value
from bangfu.policy.policy_set import PolicySet

LEVEL_OF_LENGTH = {2: "province", 4: "city", 6: "county"}
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Proposal:
    """A value an administrator asks to set, before it is checked."""

    document_id: str
    parameter_key: str
    region_code: str
    value: int
    valid_from: dt.date
    valid_to: dt.date | None
    document_number: str
    document_title: str


@dataclass(frozen=True, kw_only=True)
class StoredStandard(Proposal):
    """One value as set by a city or county, with the local document that set it: a proposal saved."""

    id: int
    set_by: str
    set_at: dt.datetime

    def citation(self) -> Citation:
        """Cited as the local document: its number, whose standard it is, and its title."""
        return Citation(self.document_number, f"{regions.name_of(self.region_code)}标准", self.document_title)


@dataclass(frozen=True)
class Period:
    """A stored value and the days it actually holds (``end`` None: open); empty when superseded."""

    standard: StoredStandard
    start: dt.date
    end: dt.date | None

    @property
    def superseded(self) -> bool:
        return self.end is not None and self.end < self.start


def periods(rows: Iterable[StoredStandard]) -> list[Period]:
    """The rows of one document, parameter and region as the periods they hold, ordered by start."""
    ordered = sorted(rows, key=lambda r: (r.valid_from, r.id))
    out: list[Period] = []
    for index, row in enumerate(ordered):
        later = [r.valid_from for r in ordered[index + 1 :] if r.valid_from > row.valid_from]
        same_day_correction = any(r.valid_from == row.valid_from for r in ordered[index + 1 :])
        ends = [row.valid_to] if row.valid_to is not None else []
        if later:
            ends.append(later[0] - ONE_DAY)
        if same_day_correction:
            ends.append(row.valid_from - ONE_DAY)
        out.append(Period(row, row.valid_from, min(ends) if ends else None))
    return out


def _key(row: StoredStandard) -> tuple[str, str, str]:
    return row.document_id, row.parameter_key, row.region_code


def overlay(policies: PolicySet, rows: Iterable[StoredStandard]) -> PolicySet:
    """The set with every stored standard laid over its document's parameter, at its region's level.

    Rows of a document or parameter the set does not hold (a deactivated programme, a renamed key) are
    left out: they stay in the history, and count again if the document returns.
    """
    by_document: dict[str, dict[str, Parameter]] = {}
    held = {d.id: d for d in policies.documents}
    for key, group in groupby(sorted(rows, key=_key), key=_key):
        document_id, parameter_key, region = key
        document = held.get(document_id)
        if document is None or parameter_key not in document.parameters:
            continue
        parameters = by_document.setdefault(document_id, dict(document.parameters))
        parameter = parameters[parameter_key]
        for period in periods(group):
            if not period.superseded:
                standard = period.standard
                value = DatedValue(period.start, period.end, standard.value, standard.citation(), "")
                parameter = parameter.with_override(value, region)
        parameters[parameter_key] = parameter
    if not by_document:
        return policies
    documents = tuple(
        dataclasses.replace(d, parameters=by_document[d.id]) if d.id in by_document else d for d in policies.documents
    )
    return dataclasses.replace(policies, documents=documents)


def settable(policy: Policy, level: str) -> list[Parameter]:
    """The standards of ``policy`` an administrator of ``level`` (city, county) may set for its region."""
    return [
        p
        for p in policy.parameters.values()
        if p.is_local_standard and not p.informational and p.type == "int" and level in p.levels_that_set()
    ]


def refusals(policy: Policy, proposal: Proposal, setter_region: str) -> dict[str, str]:
    """Why the proposal cannot be saved, by form field ("" for the whole form); empty when it can.

    ``setter_region`` is the administrator's own region: a city or county sets its own standards only,
    never a neighbour's or those of a county under it (which issues its own documents).
    """
    parameter = policy.parameters.get(proposal.parameter_key)
    if parameter is None or not parameter.is_local_standard or parameter.informational:
        return {"": f"政策 {policy.id} 没有可由地方设置的标准“{proposal.parameter_key}”"}
    region = regions.canonical(proposal.region_code)
    level = LEVEL_OF_LENGTH.get(len(region))
    own = regions.canonical(setter_region)
    if region != own:
        return {"": f"您只能设置本地区（{regions.full_name(own)}）的标准，不能设置{regions.full_name(region)}的标准"}
    if level not in parameter.levels_that_set():
        owner = LEVELS[parameter.set_by or "city"]
        extra = "；本政策未允许县级另行设置" if parameter.set_by == "city" and level == "county" else ""
        return {"": f"“{parameter.label}”由{owner}制定，{LEVELS.get(level or '', '本级')}不能设置{extra}"}
    if not policy.covers(region):
        return {"": f"政策 {policy.id} 不适用于{regions.full_name(region)}"}
    return _field_refusals(policy, parameter, proposal)


def _field_refusals(policy: Policy, parameter: Parameter, proposal: Proposal) -> dict[str, str]:
    errors: dict[str, str] = {}
    shown = format_value(proposal.value, parameter.unit)
    if proposal.value < 0:
        errors["value"] = f"标准不能为负数（填写的是 {shown}）"
    elif parameter.range is not None and not parameter.range.holds(proposal.value):
        low, high = (format_value(v, parameter.unit) for v in (parameter.range.low, parameter.range.high))
        errors["value"] = f"{shown}超出本标准允许的范围 {low}—{high}（{parameter.range.reason}）"
    period = f"{policy.valid_from}—{policy.valid_to or '长期'}"
    if not policy.in_force(proposal.valid_from):
        errors["valid_from"] = f"生效日期应在政策 {policy.id} 的执行期内（{period}）"
    if proposal.valid_to is not None and proposal.valid_to < proposal.valid_from:
        errors["valid_to"] = "截止日期不能早于生效日期"
    if not proposal.document_number.strip():
        errors["document_number"] = "请填写设定该标准的本地文件文号（如 运人社发〔2024〕12号）"
    if not proposal.document_title.strip():
        errors["document_title"] = "请填写本地文件标题"
    return errors
