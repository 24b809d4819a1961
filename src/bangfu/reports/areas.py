"""The dashboard's figures one level down: per city, county, township, or village of the viewer's region.

Cities, counties and townships are summed from the stored figures (``reports.dashboard``), whose finest
region is a person's township, or their county when the township is not known: those persons form a
row of their own ("乡镇未登记") that no township list holds. Villages are not in the regions table; the
national download names them in a column the import keeps in ``persons.original_record``, so a
township's villages are counted from its persons' records on read (a township holds thousands, not
millions).
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, func, select

from bangfu.access.scope import Scope
from bangfu.core import regions
from bangfu.registry.queries import VILLAGE_HEADERS
from bangfu.reports.dashboard import FIGURES, PERSONS, WORK_KEYS

# The level below each scope's, and how a figure's region (a county or township code) maps to it.
CHILD_LEVEL = {"province": "city", "city": "county", "county": "township", "township": "village"}
LEVEL_NAMES = {"city": "市", "county": "县（市、区）", "township": "乡镇（街道）", "village": "村"}


@dataclass
class Area:
    """One row of the breakdown. ``region`` is the people list's region filter and ``village`` its
    village filter; both None for persons whose place at that level is not recorded."""

    name: str
    region: str | None
    village: str | None = None
    persons: int = 0
    work: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Breakdown:
    level: str  # city, county, township, village
    areas: list[Area]
    has_work: bool  # villages are counted by persons only

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]


def _child(code: str, level: str) -> str | None:
    if level == "city":
        return regions.city_of(code)  # 1411, the code the registry names the city by (not 141100)
    if level == "county":
        return code[:6]
    return code if len(code) > 6 else None  # a county code: township not recorded


# Cities and counties are summed by the database on their code's first digits: the province's figures
# are ~7,000 rows at 20,000 persons (one per township and key), which cost 100 ms to fetch and add here.
PREFIX_DIGITS = {"city": 4, "county": 6}


def _from_figures(connection: Connection, scope: Scope, level: str) -> list[Area]:
    table: Table = FIGURES
    digits = PREFIX_DIGITS.get(level)
    place = func.substr(table.c.region_code, 1, digits) if digits else table.c.region_code
    query = (
        select(place, table.c.measure, table.c.key, func.sum(table.c.value))
        .where(scope.places(table.c.region_code), table.c.measure.in_(("persons", "work")))
        .group_by(place, table.c.measure, table.c.key)
    )
    areas: dict[str | None, Area] = {}
    for region_code, measure, key, value in connection.execute(query):
        child = _child(region_code, level)
        area = areas.get(child)
        if area is None:
            name = regions.name_of(child) if child else "乡镇未登记"
            area = areas[child] = Area(name=name, region=child, work=dict.fromkeys(WORK_KEYS, 0))
        if measure == "persons":
            area.persons += int(value)
        elif key in area.work:
            area.work[key] += int(value)
    # in code order (the official order of divisions), the unrecorded row last
    return sorted(areas.values(), key=lambda a: (a.region is None, a.region or ""))


def village_of(original_record: str | None) -> str | None:
    """The village an imported row names, or None."""
    if not original_record:
        return None
    with contextlib.suppress(ValueError):
        kept = json.loads(original_record)
        if isinstance(kept, dict):
            return next((str(kept[h]) for h in VILLAGE_HEADERS if kept.get(h)), None)
    return None


def _villages(connection: Connection, scope: Scope) -> list[Area]:
    counted: Counter[str | None] = Counter()
    rows = connection.execute(select(PERSONS.c.original_record).where(scope.persons(PERSONS)))
    for (record,) in rows:
        counted[village_of(record)] += 1
    by_name: dict[str | None, Area] = defaultdict(lambda: Area(name="村未记录", region=None))
    for village, persons in counted.items():
        area = by_name[village]
        if village is not None:
            area.name, area.region, area.village = village, scope.region_code, village
        area.persons = persons
    return sorted(by_name.values(), key=lambda a: (a.village is None, a.name))


def breakdown(connection: Connection, scope: Scope) -> Breakdown:
    """The viewer's region one level down (a township: its villages, where the records name them)."""
    level = CHILD_LEVEL[scope.level]
    if level == "village":
        return Breakdown(level, _villages(connection, scope), has_work=False)
    return Breakdown(level, _from_figures(connection, scope, level), has_work=True)
