"""Reference rows the database needs before anything else: the administrative divisions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bangfu.core import regions
from bangfu.store.tables import Region

# Facts that come from the bundled GB/T 2260 data and are refreshed when it changes. key_county and
# relocation_site are not among them: they are administrators' configuration, set once on insert.
REFERENCE_COLUMNS = ("name", "level", "parent_code", "statistics_only")


@dataclass(frozen=True)
class SeedResult:
    total: int
    inserted: int
    updated: int


def reference_regions() -> Iterator[regions.Region]:
    """Every bundled region, parents before children (SQLite checks foreign keys row by row)."""
    for code, name in regions.provinces().items():
        yield regions.Region(code, name, "province", None)
    yield from regions.shanxi_cities()
    counties = regions.shanxi_counties()
    yield from counties
    for county in counties:
        yield from regions.townships_of(county.code)


def _reference_values(region: regions.Region) -> dict[str, Any]:
    return {
        "name": region.name,
        "level": region.level,
        "parent_code": region.parent,
        "statistics_only": region.statistics_only,
    }


def seed_regions(connection: Connection, key_counties: Iterable[str]) -> SeedResult:
    """Insert missing regions and refresh reference facts of existing ones; safe to run again."""
    wanted = list(reference_regions())
    key = frozenset(key_counties)
    county_codes = {r.code for r in wanted if r.level == "county"}
    if unknown := sorted(key - county_codes):
        raise ValueError(f"重点帮扶县名单中的代码 {', '.join(unknown)} 不是山西省的县级行政区划代码")

    columns = [getattr(Region, name) for name in ("code", *REFERENCE_COLUMNS)]
    existing = {row.code: row._asdict() for row in connection.execute(select(*columns))}
    new_rows = [
        {"code": r.code, **_reference_values(r), "key_county": r.code in key, "relocation_site": False}
        for r in wanted
        if r.code not in existing
    ]
    changed = [
        (r.code, values)
        for r in wanted
        if r.code in existing
        and (values := _reference_values(r)) != {k: existing[r.code][k] for k in REFERENCE_COLUMNS}
    ]
    if new_rows:
        connection.execute(insert(Region), new_rows)
    for code, values in changed:
        connection.execute(update(Region).where(Region.code == code).values(**values))
    return SeedResult(total=len(existing) + len(new_rows), inserted=len(new_rows), updated=len(changed))
