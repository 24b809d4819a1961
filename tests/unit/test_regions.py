from __future__ import annotations

from bangfu.core import regions


def test_provinces_are_the_31_mainland_ones() -> None:
    provinces = regions.provinces()
    assert len(provinces) == 31
    assert provinces["14"] == "山西省"
    assert "71" not in provinces  # Taiwan, Hong Kong, Macao are not in the mainland list


def test_shanxi_has_11_cities() -> None:
    cities = regions.shanxi_cities()
    assert len(cities) == 11
    assert {c.level for c in cities} == {"city"}
    assert {c.parent for c in cities} == {"14"}
    assert cities[0].code == "1401" and cities[0].name == "太原市"


def test_shanxi_has_121_county_units_with_4_statistics_only_zones() -> None:
    counties = regions.shanxi_counties()
    assert len(counties) == 121
    assert len({c.code for c in counties}) == 121
    assert {c.code for c in counties if c.statistics_only} == {"140171", "140271", "140671", "140971"}
    city_codes = {c.code for c in regions.shanxi_cities()}
    assert all(c.level == "county" and c.parent in city_codes for c in counties)
    assert all(c.parent == regions.city_of(c.code) for c in counties)


def test_townships() -> None:
    townships = regions.townships_of("140105")
    assert townships
    assert all(t.level == "township" and t.parent == "140105" and len(t.code) == 9 for t in townships)
    assert regions.townships_of("999999") == []
    total = sum(len(regions.townships_of(c.code)) for c in regions.shanxi_counties())
    assert total == 1352


def test_lookups() -> None:
    county = regions.get("140932")
    assert county is not None
    assert county.name == "偏关县" and county.level == "county" and county.parent == "1409"
    province = regions.get("14")
    assert province is not None and province.level == "province" and province.parent is None
    assert regions.get("999999") is None
    assert regions.name_of("1411") == "吕梁市"
    assert regions.name_of("440305") == "440305"  # outside Shanxi counties are not bundled
    assert regions.name_of("44") == "广东省"
    assert regions.name_of("140105001") == "坞城街道"


def test_code_prefixes() -> None:
    assert regions.province_of("140932") == "14"
    assert regions.city_of("140932") == "1409"
    assert regions.county_of("140932101") == "140932"
    assert regions.is_shanxi("141123")
    assert not regions.is_shanxi("440305")


def test_demo_key_counties_are_real_counties() -> None:
    assert len(set(regions.DEMO_KEY_COUNTIES)) == 10
    for code in regions.DEMO_KEY_COUNTIES:
        county = regions.get(code)
        assert county is not None and county.level == "county" and not county.statistics_only


def test_results_are_copies() -> None:
    regions.shanxi_counties().clear()
    regions.provinces().clear()
    assert len(regions.shanxi_counties()) == 121
    assert len(regions.provinces()) == 31


def test_full_name_joins_the_levels() -> None:
    township = regions.townships_of("141123")[0]
    assert regions.full_name("141123") == "山西省吕梁市兴县"
    assert regions.full_name(township.code) == "山西省吕梁市兴县" + township.name
    assert regions.full_name("1411") == "山西省吕梁市"
    assert regions.full_name("140402") == "山西省长治市"  # historic county: as far as the data go
    assert regions.full_name("440305") == "广东省"
    assert regions.full_name("999999") == "999999"


def test_demo_key_counties_are_the_bundled_policys() -> None:
    # the store seeds its editable key-county flags from this list; the policy engine reads its own
    from bangfu.policy.loader import load_bundled

    assert frozenset(regions.DEMO_KEY_COUNTIES) == load_bundled().key_counties
