"""Resolve the places county staff write (codes or names) to administrative division codes.

Spreadsheets name a county as ``140105``, ``小店区``, ``小店``, ``太原市小店区`` or
``山西省太原市小店区``; some names (``城区``) exist in more than one city and must be refused
rather than guessed.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from bangfu.core import regions

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_COUNTY_SUFFIXES = "县区市"
_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "省", "市")
SHANXI_NAMES = ("山西省", "山西")


def _clean(text: str) -> str:
    # NFKC turns full-width digits and letters into ASCII, which is how codes get compared.
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def _short(name: str, suffixes: tuple[str, ...] | str) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@functools.cache
def _counties_by_name() -> dict[str, tuple[str, ...]]:
    """County names, full and without the 县/区/市 suffix, to every code that carries them."""
    index: dict[str, list[str]] = {}
    for county in regions.shanxi_counties():
        for name in {county.name, _short(county.name, _COUNTY_SUFFIXES)}:
            if name:
                index.setdefault(name, []).append(county.code)
    return {name: tuple(codes) for name, codes in index.items()}


@functools.cache
def _cities_by_name() -> dict[str, str]:
    index: dict[str, str] = {}
    for city in regions.shanxi_cities():
        index[city.name] = city.code
        if short := _short(city.name, "市"):
            index[short] = city.code
    return index


@functools.cache
def _provinces_by_name() -> tuple[tuple[str, str], ...]:
    """(name, code) pairs, full names and short ones, longest first so that prefixes match greedily."""
    pairs: set[tuple[str, str]] = set()
    for code, name in regions.provinces().items():
        pairs.add((name, code))
        if short := _short(name, _PROVINCE_SUFFIXES):
            pairs.add((short, code))
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def _strip_prefix(text: str, names: tuple[str, ...] | list[str]) -> tuple[str, str | None]:
    for name in names:
        if text.startswith(name) and len(text) > len(name):
            return text[len(name) :], name
    return text, None


def _describe(codes: tuple[str, ...]) -> str:
    parts = []
    for code in codes:
        county = regions.get(code)
        city = regions.get(code[:4])
        parts.append(f"{city.name if city else ''}{county.name if county else code}（{code}）")
    return "、".join(parts)


def _province_prefix(text: str) -> str | None:
    for name, code in _provinces_by_name():
        if text.startswith(name):
            return code
    return None


def _county_from_code(code: str, what: str) -> str:
    county_code = code[:6]
    if len(code) not in (6, 9, 12):
        raise ValueError(f"{what}代码“{code}”应为 6 位行政区划代码")
    if not regions.is_shanxi(county_code):
        province = regions.provinces().get(regions.province_of(county_code), "未知省份")
        raise ValueError(f"{what}“{code}”不在山西省（属于{province}），只能导入山西省的县（区、市）")
    county = regions.get(county_code)
    if county is None or county.level != "county":
        raise ValueError(f"{what}代码“{code}”不是山西省的县级行政区划代码")
    if county.statistics_only:
        raise ValueError(f"{what}“{code}”（{county.name}）是统计用区域，不是县级行政区划，请填写实际所在的县（区、市）")
    return county_code


def _county_from_name(text: str, what: str) -> str:
    candidates = _counties_by_name().get(text)
    if candidates is None:
        rest, shanxi = _strip_prefix(text, SHANXI_NAMES)
        if shanxi is None and (other := _province_prefix(text)) is not None and other != regions.SHANXI:
            raise ValueError(f"{what}“{text}”不在山西省，只能导入山西省的县（区、市）")
        if text in SHANXI_NAMES or rest in _cities_by_name():
            raise ValueError(f"{what}“{text}”是省或市，不是县，请填写县（区、市）名称或 6 位行政区划代码")
        rest, city_name = _strip_prefix(rest, sorted(_cities_by_name(), key=len, reverse=True))
        candidates = _counties_by_name().get(rest, ())
        if city_name is not None:
            city_code = _cities_by_name()[city_name]
            candidates = tuple(code for code in candidates if code.startswith(city_code))
    if not candidates:
        raise ValueError(f"{what}“{text}”不是山西省的县（区、市）名称，请填写县名或 6 位行政区划代码")
    if len(candidates) > 1:
        raise ValueError(
            f"{what}“{text}”有多个同名的县（区）：{_describe(candidates)}，"
            "请写明所属市（如“阳泉市城区”）或填写 6 位行政区划代码"
        )
    return _county_from_code(candidates[0], what)


@functools.lru_cache(maxsize=4096)
def shanxi_county(text: str, what: str = "户籍地") -> str:
    """The 6-digit code of a Shanxi county written as a code or a name; ValueError says why not.

    Cached because an import repeats the same few county spellings on every row.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise ValueError(f"{what}为空")
    if _DIGITS.fullmatch(cleaned):
        return _county_from_code(cleaned, what)
    return _county_from_name(cleaned, what)


@functools.lru_cache(maxsize=4096)
def work_region(text: str) -> str:
    """Where someone works: a Shanxi county or city code, or a province code for elsewhere.

    Outside Shanxi only the province matters to the policy (跨省务工), and the bundled regions
    list only Shanxi below province level, so other places resolve to their 2-digit province.
    """
    cleaned = _clean(text)
    what = "务工地"
    if not cleaned:
        raise ValueError(f"{what}为空")
    if _DIGITS.fullmatch(cleaned):
        if len(cleaned) not in (2, 4, 6, 9, 12) or regions.province_of(cleaned) not in regions.provinces():
            raise ValueError(f"{what}代码“{cleaned}”不是有效的行政区划代码")
        if not regions.is_shanxi(cleaned) or len(cleaned) == 2:
            return cleaned[:6]
        if len(cleaned) == 4:
            if regions.get(cleaned) is None:
                raise ValueError(f"{what}代码“{cleaned}”不是山西省的市级行政区划代码")
            return cleaned
        return _county_from_code(cleaned, what)
    if cleaned in SHANXI_NAMES:
        return regions.SHANXI
    if cleaned in _cities_by_name():
        return _cities_by_name()[cleaned]
    province = _province_prefix(cleaned)
    if province is not None and province != regions.SHANXI:
        return province
    rest, _ = _strip_prefix(cleaned, SHANXI_NAMES)
    if rest in _cities_by_name():
        return _cities_by_name()[rest]
    try:
        return _county_from_name(cleaned, what)
    except ValueError:
        if province == regions.SHANXI:
            raise
        raise ValueError(
            f"{what}“{text}”无法识别，请填写省、市、县名称（如“江苏省”“太原市小店区”）或行政区划代码"
        ) from None


@functools.cache
def _townships_by_name(county_code: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for township in regions.townships_of(county_code):
        names[township.name] = township.code
        # 凤凰 for 凤凰镇: a download may drop the suffix; a short name two townships share is left out.
        short = _short(township.name, ("街道办事处", "街道", "镇", "乡"))
        if short is not None:
            names[short] = "" if short in names and names[short] != township.code else township.code
    return {name: code for name, code in names.items() if code}


@functools.lru_cache(maxsize=4096)
def township(county_code: str, text: str, what: str = "乡") -> str:
    """The code of a township (乡镇、街道) of ``county_code`` written by name or code; ValueError says why not."""
    cleaned = _clean(text)
    if not cleaned:
        raise ValueError(f"{what}为空")
    known = _townships_by_name(county_code)
    if _DIGITS.fullmatch(cleaned) and cleaned[:6] == county_code and cleaned[:9] in known.values():
        return cleaned[:9]
    code = known.get(cleaned)
    if code is None:
        county = regions.name_of(county_code)
        listed = "、".join(township.name for township in regions.townships_of(county_code))
        raise ValueError(f"{what}“{text.strip()}”不是{county}的乡镇（街道），{county}的乡镇有：{listed}")
    return code
