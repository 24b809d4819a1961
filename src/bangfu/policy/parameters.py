"""Dated policy parameters with citations and regional overrides.

A value holds from its ``from`` date to its ``to`` date (both inclusive, ``to`` open if absent).
A region may override the provincial value, because the policy leaves many standards to cities
(具体标准由市级…制定). Resolution looks at the county, then its city, then the province, and takes
the first level that has a value range covering the date; a dated ``null`` there means "not set
from this date", which is how a repeal or an unset local standard is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from bangfu.core.money import format_yuan

UNITS = {
    "fen": "int",
    "days": "int",
    "months": "int",
    "years": "int",
    "persons": "int",
    "households": "int",
    "basis_points": "int",
    "date": "date",
    "bool": "bool",
}
UNIT_LABELS = {
    "fen": "分",
    "days": "天",
    "months": "个月",
    "years": "年",
    "persons": "人",
    "households": "户",
    "basis_points": "‱",
    "date": "",
    "bool": "",
}


@dataclass(frozen=True)
class Citation:
    document: str
    clause: str
    quote: str

    def short(self) -> str:
        return f"{self.document} {self.clause}"


@dataclass(frozen=True)
class DatedValue:
    start: dt.date
    end: dt.date | None
    value: object | None
    citation: Citation
    note: str = ""

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: DatedValue) -> bool:
        return (self.end is None or other.start <= self.end) and (other.end is None or self.start <= other.end)


@dataclass(frozen=True)
class ValueRange:
    """The values a standard may plausibly take (both ends included), with the reason for the bounds."""

    low: int
    high: int
    reason: str

    def holds(self, value: int) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Resolved:
    """A parameter's value for one date and region, and where it came from."""

    key: str
    value: object | None
    level: str | None  # region code of the level that set it, None when unset
    citation: Citation | None


@dataclass(frozen=True)
class Parameter:
    key: str
    label: str
    unit: str
    citation: Citation
    values: tuple[DatedValue, ...]
    overrides: dict[str, tuple[DatedValue, ...]] = field(default_factory=dict)
    set_by: str | None = None  # "city" or "county" when the text leaves the standard to them
    note: str = ""
    # a standard the text only points to ("按规定" under another regulation) and no rule computes
    informational: bool = False
    # a value awaiting the official text (a programme announced but not yet published): shown as 暂定
    placeholder: bool = False
    # the plausible values (inclusive, in the parameter's unit) a local standard may take, and why
    range: ValueRange | None = None
    # a standard the city owns that a county may set for itself too, where the text says 各地 (ADR 0023)
    county_may_override: bool = False

    @property
    def type(self) -> str:
        return UNITS[self.unit]

    @property
    def is_local_standard(self) -> bool:
        return self.set_by is not None

    def levels_that_set(self) -> tuple[str, ...]:
        """The levels ("city", "county") that may set this standard for their own region."""
        if self.set_by == "city":
            return ("city", "county") if self.county_may_override else ("city",)
        return (self.set_by,) if self.set_by else ()

    def resolve(self, day: dt.date, region: str | None) -> Resolved:
        levels: list[tuple[str, tuple[DatedValue, ...]]] = []
        if region:
            for length in (6, 4):
                code = region[:length]
                if len(code) == length and code in self.overrides:
                    levels.append((code, self.overrides[code]))
        levels.append((region[:2] if region else "14", self.values))
        for code, values in levels:
            for item in values:
                if item.covers(day):
                    level = code if item.value is not None else None
                    return Resolved(self.key, item.value, level, item.citation)
        return Resolved(self.key, None, None, None)

    def varies_by_region(self) -> bool:
        return bool(self.overrides)

    def with_override(self, value: DatedValue, region: str | None) -> Parameter:
        """A copy where ``value`` replaces what it overlaps at the given level (for what-if runs)."""
        if region is None or len(region) == 2:
            return replace(self, values=_splice(self.values, value))
        overrides = dict(self.overrides)
        overrides[region] = _splice(overrides.get(region, ()), value)
        return replace(self, overrides=overrides)


def _splice(values: tuple[DatedValue, ...], new: DatedValue) -> tuple[DatedValue, ...]:
    """Insert ``new``, trimming existing ranges so that none overlaps it."""
    out: list[DatedValue] = []
    one_day = dt.timedelta(days=1)
    for item in values:
        if not item.overlaps(new):
            out.append(item)
            continue
        if item.start < new.start:
            out.append(DatedValue(item.start, new.start - one_day, item.value, item.citation, item.note))
        if new.end is not None and (item.end is None or item.end > new.end):
            out.append(DatedValue(new.end + one_day, item.end, item.value, item.citation, item.note))
    out.append(new)
    return tuple(sorted(out, key=lambda v: v.start))


def format_value(value: object | None, unit: str) -> str:
    """A parameter value as an official would read it."""
    if value is None:
        return "未设置"
    if unit == "fen" and isinstance(value, int):
        return format_yuan(value)
    if unit == "bool":
        return "是" if value else "否"
    return f"{value}{UNIT_LABELS.get(unit, '')}"
