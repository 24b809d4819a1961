"""A Shanxi region found by what an official types: its code, its name (蔚汾镇, 兴县, 吕梁市), or the
end of its full name (兴县蔚汾镇, 吕梁市兴县) when a name is shared.

The bundled divisions go down to townships (乡镇、街道); villages are not in them, so a village is
not a region here. Ambiguous names are answered with every choice, in Chinese, so the person can
pick one by writing more of it or its code.
"""

from __future__ import annotations

import functools

from bangfu.core import regions
from bangfu.core.regions import Region

MAX_CHOICES_SHOWN = 12


class RegionNameError(ValueError):
    """No region, or several, go by the text; the message lists the choices."""


@functools.cache
def _shanxi() -> tuple[tuple[Region, str], ...]:
    """Every Shanxi city, county and township with its full name, province first."""
    province = regions.Region(regions.SHANXI, regions.provinces()[regions.SHANXI], "province", None)
    found: list[Region] = [province, *regions.shanxi_cities(), *regions.shanxi_counties()]
    found += [t for county in regions.shanxi_counties() for t in regions.townships_of(county.code)]
    return tuple((region, regions.full_name(region.code)) for region in found)


def _described(region: Region, full: str) -> str:
    return f"{full}（{region.code}）"


def find(text: str) -> list[Region]:
    """The regions ``text`` names: exactly by name, else by the end of the full name, else by the start
    of a name (吕梁 for 吕梁市); nearest to the province first."""
    wanted = text.strip()
    if not wanted:
        return []
    every = _shanxi()
    exact = [region for region, full in every if wanted in (region.name, full)]
    if exact or len(wanted) < 2:
        return exact
    by_full_name = [region for region, full in every if full.endswith(wanted)]
    return by_full_name or [region for region, _ in every if region.name.startswith(wanted)]


def resolve(text: str) -> str:
    """The code of the one region ``text`` is or names; RegionNameError when none or several."""
    given = text.strip()
    if given.isdigit():
        return given  # a code: the scope checks it exists
    found = find(given)
    if len(found) == 1:
        return found[0].code
    if not found:
        raise RegionNameError(
            f"找不到名为“{given}”的山西省地区：请填写市、县（市、区）或乡镇（街道）的名称，如“兴县”“蔚汾镇”，"
            "或填写行政区划代码（村一级暂不能按名称查找）"
        )
    names = dict(_shanxi())
    shown = "；".join(_described(region, names.get(region, region.name)) for region in found[:MAX_CHOICES_SHOWN])
    more = f"等 {len(found)} 处" if len(found) > MAX_CHOICES_SHOWN else f"共 {len(found)} 处"
    example = regions.name_of(found[0].parent or "") + found[0].name
    raise RegionNameError(
        f"有多个地区名为“{given}”（{more}）：{shown}。请写出上一级地区，如“{example}”，或直接填写代码"
    )


def names_within(code: str) -> list[str]:
    """Names a picker offers inside the region ``code`` (itself and below), nearest first."""
    return [region.name for region, _ in _shanxi() if region.code.startswith(code)]
