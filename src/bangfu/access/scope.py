"""The region subtree an account sees, as SQL conditions that every registry read must apply.

A scope is the province (山西省, code ``14``), a city (``1401``), a county (``141123``) or a township
(``141123100``); the 6-digit forms of the province and a city (``140000``, ``140100``) are accepted
too. Persons are matched on their hukou county with ``IN (the scope's counties)`` — an index on
``persons.hukou_region`` serves it, where a ``LIKE '14%'`` prefix would not on PostgreSQL without a
special operator class — and a township scope matches ``persons.township_code``, so persons whose
township is unknown (NULL) are seen from their county up only. The province keeps its filter although
it covers every county: a person whose hukou is not a Shanxi county is outside every account's scope.

Organizations are registered at their county (the import's ``所在县``) or, when the file names one
(``所在乡镇（街道）``), at a township of it. A township scope sees those registered at its own township
code, and no county-level one: the township of those is not known. County and higher scopes see the
organizations of their counties and of the townships in them.

Queries take a ``Scope`` and have no unscoped variant: read paths cannot forget it (see the openIMIS
and OpenSPP notes in STYLE.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import ColumnElement, FromClause, and_

from bangfu.core import regions
from bangfu.core.regions import Level
from bangfu.store.tables import Organization, Person, User


class UnknownRegionError(ValueError):
    """The code is not a Shanxi region in the bundled division data."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def find_region(code: str) -> regions.Region:
    """The bundled region of ``code`` (any province, Shanxi city, county or township), or UnknownRegionError."""
    region = regions.get(regions.canonical(code))
    if region is None:
        raise UnknownRegionError(
            code,
            f"地区代码“{code}”不存在：应为山西省（14）、市（4 位，如 1411）、县（6 位，如 141123）"
            "或乡镇、街道（9 位，如 141123100）的行政区划代码",
        )
    return region


@functools.cache
def _counties_under() -> dict[str, tuple[str, ...]]:
    """Province and city codes → their county codes (statistics-only zones included: they hold townships)."""
    under: dict[str, list[str]] = {}
    for county in regions.shanxi_counties():
        under.setdefault(regions.province_of(county.code), []).append(county.code)
        under.setdefault(county.parent or regions.city_of(county.code), []).append(county.code)
    return {code: tuple(counties) for code, counties in under.items()}


@dataclass(frozen=True)
class Scope:
    """The subtree of one region; build it with ``for_region`` or ``for_account``."""

    region_code: str
    level: Level
    county_codes: tuple[str, ...]

    @classmethod
    def for_region(cls, code: str) -> Scope:
        """The scope of a Shanxi region; UnknownRegionError for an unknown code or one outside Shanxi."""
        region = find_region(code)
        if not regions.is_shanxi(region.code):
            raise UnknownRegionError(
                code, f"地区代码“{code}”（{region.name}）不在山西省：账户只能管辖山西省内的省、市、县或乡镇"
            )
        if region.level == "township":
            counties: tuple[str, ...] = (regions.county_of(region.code),)
        elif region.level == "county":
            counties = (region.code,)
        else:
            counties = _counties_under().get(region.code, ())
        return cls(region.code, region.level, counties)

    @classmethod
    def for_account(cls, role: str, region_code: str) -> Scope:
        """An account's scope: its region's subtree, whatever the role (an auditor's too)."""
        del role  # every role sees its region's subtree; roles differ in what they may do, not where
        return cls.for_region(region_code)

    @property
    def name(self) -> str:
        """Full Chinese name of the scope's region (山西省吕梁市兴县)."""
        return regions.full_name(self.region_code)

    def _subtree(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """Codes that start with the scope's code, as a range on the column's index: ``'1411' <= code <
        '1412'``. Region codes are digits nested by prefix (GB/T 2260), so the range holds exactly the
        subtree, with two bound values where a list of counties would bind a hundred on every query."""
        upper = str(int(self.region_code) + 1).zfill(len(self.region_code))
        return and_(column >= self.region_code, column < upper)

    def persons(self, table: FromClause = Person.__table__) -> ColumnElement[bool]:
        """Rows of ``persons`` (or an alias of it) inside the scope."""
        if self.level == "township":
            return table.c.township_code == self.region_code
        if self.level == "county":
            return table.c.hukou_region == self.region_code  # hukou_region is a county code
        return self._subtree(table.c.hukou_region)

    def counties(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """A hukou-county column inside the scope's counties (a township's county, for a township): for
        tables that carry the county but not the township, such as the name index."""
        if self.level == "township":
            return column == regions.county_of(self.region_code)
        if self.level == "county":
            return column == self.region_code
        return self._subtree(column)

    def places(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """A column of county or township codes (an organization's place, a stored figure's region) inside
        the scope; a township holds only its own code."""
        if self.level == "township":
            return column == self.region_code
        return self._subtree(column)

    def organizations(self, table: FromClause = Organization.__table__) -> ColumnElement[bool]:
        """Rows of ``organizations`` (or an alias of it) inside the scope; a township sees only its own."""
        return self.places(table.c.region_code)

    def users(self, table: FromClause = User.__table__) -> ColumnElement[bool]:
        """Rows of ``users`` (accounts) placed inside the scope, for the administrator page."""
        return self._subtree(table.c.region_code)

    def contains(self, region_code: str | None) -> bool:
        """Whether ``region_code`` lies in the subtree (by code prefix, so a village of a township does too)."""
        if not region_code:
            return False
        return regions.canonical(region_code).startswith(self.region_code)

    def within(self, region_code: str) -> Scope | None:
        """The part of this scope inside ``region_code``: its scope, this one, or None when they do not meet.

        Subtrees are nested or disjoint, so the intersection is the smaller one. UnknownRegionError for a
        code that is not a region at all; a real region outside Shanxi simply does not meet.
        """
        region = find_region(region_code)
        if not regions.is_shanxi(region.code):
            return None
        if self.contains(region.code):
            return Scope.for_region(region.code)
        if self.region_code.startswith(region.code):
            return self
        return None
