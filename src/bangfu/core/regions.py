"""Administrative division codes (行政区划代码) bundled with the package.

The CSVs in ``bangfu/data/regions`` are reference facts (see SOURCE.md there); they are read once
per process and then served from memory.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Level = Literal["province", "city", "county", "township"]

SHANXI = "14"

# Demo stand-in only: SOURCE.md found no official list of Shanxi's key assistance counties
# (乡村振兴重点帮扶县), so these 10 deep-poverty counties named in 2017 are used for demos. The
# real list is configuration an administrator edits and must not be read from here.
DEMO_KEY_COUNTIES: tuple[str, ...] = (
    "140932",
    "140925",
    "140926",
    "141123",
    "141124",
    "141126",
    "141032",
    "141030",
    "140222",
    "140223",
)

# Statistics-only zones group townships for statistics; they are not GB/T 2260 codes, so no
# citizen ID number ever starts with them.
STATISTICS_ONLY_ZONES: frozenset[str] = frozenset({"140171", "140271", "140671", "140971"})


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: Level
    parent: str | None
    statistics_only: bool = False


def _read(filename: str) -> list[dict[str, str]]:
    text = (resources.files("bangfu") / "data" / "regions" / filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _provinces() -> dict[str, str]:
    return {row["code"]: row["name"] for row in _read("provinces.csv")}


@functools.cache
def _cities() -> tuple[Region, ...]:
    return tuple(Region(row["code"], row["name"], "city", row["province_code"]) for row in _read("shanxi-cities.csv"))


@functools.cache
def _counties() -> tuple[Region, ...]:
    return tuple(
        Region(
            row["code"],
            row["name"],
            "county",
            row["city_code"],
            statistics_only=row["code"] in STATISTICS_ONLY_ZONES,
        )
        for row in _read("shanxi-counties.csv")
    )


@functools.cache
def _townships() -> tuple[Region, ...]:
    return tuple(
        Region(row["code"], row["name"], "township", row["county_code"]) for row in _read("shanxi-townships.csv")
    )


@functools.cache
def _index() -> dict[str, Region]:
    index = {code: Region(code, name, "province", None) for code, name in _provinces().items()}
    for region in (*_cities(), *_counties(), *_townships()):
        index[region.code] = region
    return index


@functools.cache
def _townships_by_county() -> dict[str, tuple[Region, ...]]:
    grouped: dict[str, list[Region]] = {}
    for township in _townships():
        grouped.setdefault(township.parent or "", []).append(township)
    return {county: tuple(items) for county, items in grouped.items()}


def provinces() -> dict[str, str]:
    """Mainland province-level codes (2 digits) to names."""
    return dict(_provinces())


def shanxi_cities() -> list[Region]:
    return list(_cities())


def shanxi_counties() -> list[Region]:
    """All 121 county-level units, including the 4 statistics-only zones (see ``statistics_only``)."""
    return list(_counties())


def townships_of(county_code: str) -> list[Region]:
    return list(_townships_by_county().get(county_code, ()))


def get(code: str) -> Region | None:
    return _index().get(code)


def name_of(code: str) -> str:
    """The region's name, or the code itself so that display never fails on an unknown code."""
    region = get(code)
    return region.name if region else code


def full_name(code: str) -> str:
    """Province, city and county names joined (山西省吕梁市兴县), as far as the bundled data go."""
    province = _provinces().get(province_of(code))
    if province is None:
        return name_of(code)
    prefixes = dict.fromkeys(p for p in (city_of(code), county_of(code), code) if len(p) > 2)
    found = (get(prefix) for prefix in prefixes)
    return province + "".join(region.name for region in found if region is not None)


def province_of(code: str) -> str:
    return code[:2]


def city_of(code: str) -> str:
    return code[:4]


def county_of(code: str) -> str:
    return code[:6]


def is_shanxi(code: str) -> bool:
    return province_of(code) == SHANXI


def canonical(code: str) -> str:
    """A region code as the registry keys it: GB/T 2260's six-digit forms of a province (140000) and a
    city (141100) become their significant prefixes (14, 1411), and a township's 12-digit statistical
    code (141123100000) its 9 digits; counties and 9-digit townships stay as given."""
    code = code.strip()
    if len(code) == 6 and code.isdigit():
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00") and get(code[:4]) is not None:
            return code[:4]
    if len(code) == 12 and code.isdigit() and code.endswith("000"):
        return code[:9]
    return code
