"""Whether a downloaded file holds only rows of an account's region, read from its 市/县/乡 names.

A national download names its regions in words (吕梁市 兴县 蔚汾镇), not codes, so each row's
names are matched against the bundled division's names for the scope's counties. 县 alone is not
unique in Shanxi (five cities have a 城区), so where the file has 市 the pair (市, 县) must match;
a township scope also needs 乡 to be its township's name. A row outside, or with 县 empty, makes
the file refused: the checks page must not become a way to read another county's rows.
"""

from __future__ import annotations

import duckdb

from bangfu.access.scope import Scope
from bangfu.core import regions

# The fields read to place a row; the checks load them beside the rules' own.
PLACE_FIELDS = frozenset({"city", "county", "township"})
EMPTY_COUNTY = "（县为空）"


def _allowed(scope: Scope) -> set[tuple[str, str]]:
    pairs = set()
    for code in scope.county_codes:
        pairs.add((regions.name_of(regions.city_of(code)), regions.name_of(code)))
    return pairs


def places_outside(
    connection: duckdb.DuckDBPyConnection, scope: Scope, fields: frozenset[str]
) -> list[tuple[str, int]]:
    """The places (市县 or 市县乡 as the file wrote them) outside ``scope``, with their row counts."""
    city = "city" if "city" in fields else "NULL"
    township = "township" if "township" in fields else "NULL"
    found = connection.execute(
        f"SELECT {city}, county, {township}, COUNT(*) FROM rows GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    allowed = _allowed(scope)
    counties = {county for _, county in allowed}
    township_name = regions.name_of(scope.region_code) if scope.level == "township" else None
    outside: dict[str, int] = {}
    for city_name, county_name, town, count in found:
        inside = county_name is not None and (
            (city_name, county_name) in allowed if city_name is not None else county_name in counties
        )
        if inside and township_name is not None:
            inside = town == township_name
        if not inside:
            place = "".join(p for p in (city_name, county_name or EMPTY_COUNTY) if p)
            if township_name is not None:
                place += town or "（乡为空）"
            outside[place] = outside.get(place, 0) + int(count)
    return sorted(outside.items())


def refusal(scope: Scope, outside: list[tuple[str, int]]) -> str:
    """The Chinese message refusing a file with rows outside ``scope``."""
    listed = "、".join(f"{place}（{count:,} 行）" for place, count in outside[:10])
    more = f"等 {len(outside)} 处" if len(outside) > 10 else ""
    return (
        f"文件中有不属于您所辖地区（{scope.name}）的行：{listed}{more}。"
        "本页只核查您所辖地区的数据；请从系统只下载本地区的人口信息表，或删去其他地区的行后重新上传"
    )
