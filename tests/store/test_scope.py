"""``access.scope.Scope``: levels, counties, containment, and the SQL conditions on both back ends."""

from __future__ import annotations

import pytest
from scoped_registry import (
    LIN,
    LVLIANG,
    TAIYUAN,
    VISIBLE_ORGANIZATIONS,
    VISIBLE_PERSONS,
    WEIFEN,
    WEIJIATAN,
    WUCHENG,
    XIAODIAN,
    XING,
    World,
)
from sqlalchemy import Connection, column, literal, select, union_all
from sqlalchemy.dialects import postgresql

from bangfu.access.scope import Scope, UnknownRegionError
from bangfu.core import regions
from bangfu.store.tables import Organization, Person


def test_levels_and_counties() -> None:
    province = Scope.for_region("14")
    assert (province.level, province.region_code) == ("province", "14")
    assert set(province.county_codes) == {c.code for c in regions.shanxi_counties()}
    assert len(province.county_codes) == 121

    city = Scope.for_region(LVLIANG)
    assert city.level == "city"
    assert XING in city.county_codes and LIN in city.county_codes
    assert all(code.startswith(LVLIANG) for code in city.county_codes)

    assert Scope.for_region(XING).county_codes == (XING,)
    township = Scope.for_region(WEIFEN)
    assert (township.level, township.county_codes) == ("township", (XING,))
    assert township.name == "山西省吕梁市兴县蔚汾镇"


def test_six_digit_province_and_city_codes_are_accepted() -> None:
    assert Scope.for_region("140000") == Scope.for_region("14")
    assert Scope.for_region("141100") == Scope.for_region(LVLIANG)
    assert Scope.for_region(" 141123 ").region_code == XING


@pytest.mark.parametrize("code", ["999999", "1499", "", "abc", "141123999"])
def test_unknown_codes_are_refused_in_chinese(code: str) -> None:
    with pytest.raises(UnknownRegionError, match="不存在"):
        Scope.for_region(code)


def test_a_region_outside_shanxi_is_no_scope() -> None:
    with pytest.raises(UnknownRegionError, match="不在山西省"):
        Scope.for_region("44")


def test_every_role_sees_its_regions_subtree() -> None:
    for role in ("province", "city", "county", "township", "auditor"):
        assert Scope.for_account(role, XING) == Scope.for_region(XING)


def test_contains() -> None:
    city = Scope.for_region(LVLIANG)
    assert city.contains(XING) and city.contains(WEIFEN) and city.contains("141100") and city.contains(LVLIANG)
    assert not city.contains(TAIYUAN) and not city.contains("14") and not city.contains(None) and not city.contains("")
    county = Scope.for_region(XING)
    assert county.contains(WEIFEN) and county.contains(XING)
    assert not county.contains(LIN) and not county.contains(LVLIANG)
    township = Scope.for_region(WEIFEN)
    assert township.contains(WEIFEN) and township.contains(WEIFEN + "001")
    assert not township.contains(WEIJIATAN) and not township.contains(XING)
    assert Scope.for_region("14").contains("140105") and not Scope.for_region("14").contains("440305")


def test_within_is_the_intersection_of_two_subtrees() -> None:
    city = Scope.for_region(LVLIANG)
    assert city.within(XING) == Scope.for_region(XING)
    assert city.within("14") == city
    assert city.within(TAIYUAN) is None
    assert city.within("44") is None
    assert Scope.for_region(WEIFEN).within(XING) == Scope.for_region(WEIFEN)
    assert Scope.for_region(WEIFEN).within(WEIJIATAN) is None
    with pytest.raises(UnknownRegionError):
        city.within("999999")


def test_conditions_are_index_friendly_on_postgresql() -> None:
    """Ranges and equality on indexed columns with two bound values at most; never LIKE (a prefix LIKE
    needs a special index on PostgreSQL) and never a list of a hundred counties bound on every query."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for code in ("14", LVLIANG):
        compiled = Scope.for_region(code).persons().compile(dialect=dialect)
        assert str(compiled).startswith("persons.hukou_region >= %(") and "LIKE" not in str(compiled)
        assert sorted(compiled.params.values()) == [code, str(int(code) + 1)]
    assert str(Scope.for_region(XING).persons().compile(dialect=dialect)).startswith("persons.hukou_region = %(")
    for code in ("14", LVLIANG, XING):
        compiled = Scope.for_region(code).organizations().compile(dialect=dialect)
        assert str(compiled).startswith("organizations.region_code >= %(") and len(compiled.params) == 2
    for code in ("14", LVLIANG, XING):  # the dashboard's figures: a range, not 121 counties (issue 11)
        compiled = Scope.for_region(code).places(column("region_code")).compile(dialect=dialect)
        assert str(compiled).startswith("region_code >= %(") and len(compiled.params) == 2
    township = Scope.for_region(WEIFEN)
    assert str(township.persons().compile(dialect=dialect)).startswith("persons.township_code = %(")
    assert str(township.organizations().compile(dialect=dialect)).startswith("organizations.region_code = %(")


@pytest.mark.parametrize("code", sorted(VISIBLE_PERSONS))
def test_conditions_select_exactly_the_subtree(world: tuple[Connection, World], code: str) -> None:
    connection, built = world
    scope = Scope.for_region(code)
    persons = Person.__table__
    organizations = Organization.__table__
    seen_persons = connection.scalars(select(persons.c.id).where(scope.persons())).all()
    seen_organizations = connection.scalars(select(organizations.c.id).where(scope.organizations())).all()
    assert built.persons(seen_persons) == VISIBLE_PERSONS[code]
    assert built.organizations(seen_organizations) == VISIBLE_ORGANIZATIONS[code]


def test_conditions_work_on_an_alias(world: tuple[Connection, World]) -> None:
    connection, built = world
    alias = Person.__table__.alias("p")
    seen = connection.scalars(select(alias.c.id).where(Scope.for_region(WEIJIATAN).persons(alias))).all()
    assert built.persons(seen) == {"p2"}


# Figures' regions: counties and townships of both cities, and a county outside Shanxi (西安市新城区).
PLACES = [XING, WEIFEN, WEIJIATAN, LIN, XIAODIAN, WUCHENG, "141124200", "610102"]


@pytest.mark.parametrize(
    ("code", "seen"),
    [
        ("14", set(PLACES) - {"610102"}),
        (LVLIANG, {XING, WEIFEN, WEIJIATAN, LIN, "141124200"}),
        (TAIYUAN, {XIAODIAN, WUCHENG}),
        (XING, {XING, WEIFEN, WEIJIATAN}),
        (LIN, {LIN, "141124200"}),
        (WEIFEN, {WEIFEN}),
    ],
)
def test_places_are_the_subtree_and_a_township_only_itself(
    world: tuple[Connection, World], code: str, seen: set[str]
) -> None:
    connection, _ = world
    places = union_all(*(select(literal(p).label("region_code")) for p in PLACES)).subquery("places")
    found = connection.scalars(select(places.c.region_code).where(Scope.for_region(code).places(places.c.region_code)))
    assert set(found) == seen
