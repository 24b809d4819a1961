"""``registry.queries``: what each scope sees in search and detail, masking, unmasking with audit, and
(PostgreSQL) that the ID and name-in-county searches use indexes on a synthetic population."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from scoped_registry import (
    LIN,
    LVLIANG,
    TAIYUAN,
    TODAY,
    VISIBLE_ORGANIZATIONS,
    VISIBLE_PERSONS,
    WEIFEN,
    WEIJIATAN,
    XING,
    World,
)
from sqlalchemy import Connection, Engine, event, func, select, text
from typer.testing import CliRunner

from bangfu.access.scope import Scope
from bangfu.cli import app
from bangfu.core.disclosure import masked_id_number, masked_phone
from bangfu.policy.policy_set import PolicySet
from bangfu.registry.queries import (
    QueryError,
    organization_detail,
    person_detail,
    search_organizations,
    search_people,
    unmask_person,
)
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry

POLICIES = PolicySet.bundled()

ALL_SCOPES = sorted(VISIBLE_PERSONS)


def audit_entries(connection: Connection) -> list[Any]:
    return list(connection.execute(select(AuditEntry.__table__).order_by(AuditEntry.__table__.c.id)).all())


@pytest.mark.parametrize("code", ALL_SCOPES)
def test_search_and_detail_see_exactly_the_scope(world: tuple[Connection, World], code: str) -> None:
    connection, built = world
    scope = Scope.for_region(code)
    page = search_people(connection, scope, per_page=100, today=TODAY)
    assert built.persons(p.id for p in page.items) == VISIBLE_PERSONS[code]
    assert page.total == len(VISIBLE_PERSONS[code])
    for key in ("p1", "p2", "p3", "p4", "p5"):
        detail = person_detail(connection, scope, built.ids[key], POLICIES, today=TODAY)
        assert (detail is not None) == (key in VISIBLE_PERSONS[code]), key
        by_number = search_people(connection, scope, id_number=built.id_numbers[key], today=TODAY)
        assert by_number.total == (1 if key in VISIBLE_PERSONS[code] else 0)

    organizations = search_organizations(connection, scope, per_page=100)
    assert built.organizations(o.id for o in organizations.items) == VISIBLE_ORGANIZATIONS[code]
    for key in ("o1", "o2", "o3"):
        found = organization_detail(connection, scope, built.ids[key], POLICIES, today=TODAY)
        assert (found is not None) == (key in VISIBLE_ORGANIZATIONS[code]), key


def test_missing_person_and_organization_are_none(world: tuple[Connection, World]) -> None:
    connection, _ = world
    province = Scope.for_region("14")
    assert person_detail(connection, province, 987_654_321, POLICIES) is None
    assert organization_detail(connection, province, 987_654_321, POLICIES) is None


def test_name_search_in_a_county_and_a_township(world: tuple[Connection, World]) -> None:
    connection, built = world
    province = Scope.for_region("14")
    both = search_people(connection, province, name=" 张三 ", region=XING, today=TODAY)
    # Same name: ordered by id, which is the order they were registered in.
    assert [p.id for p in both.items] == [built.ids["p1"], built.ids["p3"]]
    assert [p.id for p in search_people(connection, province, name="张三", region=WEIFEN).items] == [built.ids["p1"]]
    assert [p.id for p in search_people(connection, Scope.for_region(WEIFEN), name="张三").items] == [built.ids["p1"]]
    assert search_people(connection, province, name="张").total == 2  # a fragment: both 张三 (ADR 0025)


def test_a_region_outside_the_scope_is_an_empty_result(world: tuple[Connection, World]) -> None:
    connection, _ = world
    lvliang = Scope.for_region(LVLIANG)
    assert search_people(connection, lvliang, region=TAIYUAN).total == 0
    assert search_people(connection, Scope.for_region(WEIFEN), region=WEIJIATAN).total == 0
    assert search_organizations(connection, lvliang, region=TAIYUAN).total == 0
    assert search_people(connection, lvliang, region="44").total == 0
    # A wider region than the scope leaves the scope as it is.
    assert search_people(connection, Scope.for_region(LIN), region="14").total == 1


def test_id_number_is_normalised_and_checked(world: tuple[Connection, World]) -> None:
    connection, built = world
    province = Scope.for_region("14")
    number = built.id_numbers["p5"]
    full_width = " ".join(chr(0xFF10 + int(c)) if c.isdigit() else c.lower() for c in number)
    found = search_people(connection, province, id_number=full_width, today=TODAY)
    assert [p.id for p in found.items] == [built.ids["p5"]]
    with pytest.raises(QueryError, match=r"身份证号 .* 无效：校验位错误"):
        search_people(connection, province, id_number=number[:17] + ("0" if number[17] != "0" else "1"))
    with pytest.raises(QueryError, match="无效：长度错误"):
        search_people(connection, province, id_number="12345")


def test_category_filter_holds_on_the_day(world: tuple[Connection, World]) -> None:
    connection, built = world
    province = Scope.for_region("14")

    def holders(category: str) -> set[str]:
        return built.persons(p.id for p in search_people(connection, province, category=category, today=TODAY).items)

    assert holders("poverty_alleviated") == {"p1", "p3", "p5"}
    # p1's 防返贫监测对象 ended 2023-12-31 and p4's 农村低收入人口 starts 2024-07-01; p2 is 边缘易致贫, a
    # kind of both (core/categories.py): the search finds a category's kinds too
    assert holders("monitored") == {"p2"}
    assert holders("rural_low_income") == {"p2"}
    assert holders("edge_of_poverty") == {"p2"}
    assert holders("sudden_hardship") == set()
    assert built.persons(
        p.id for p in search_people(connection, Scope.for_region(XING), category="poverty_alleviated").items
    ) == {"p1", "p3"}
    with pytest.raises(QueryError, match="人员类别“poor”无效"):
        search_people(connection, province, category="poor")


def test_paging(world: tuple[Connection, World]) -> None:
    connection, _ = world
    province = Scope.for_region("14")
    pages = [search_people(connection, province, page=n, per_page=2, today=TODAY) for n in (1, 2, 3, 4)]
    assert [(p.total, p.pages, len(p.items)) for p in pages] == [(5, 3, 2), (5, 3, 2), (5, 3, 1), (5, 3, 0)]
    names = [person.name for page in pages for person in page.items]
    assert names == ["李四", "王五", "张三", "张三", "赵六"]  # pinyin order: li, wang, zhang, zhao (ADR 0025)
    assert search_people(connection, Scope.for_region(LIN), name="nobody").pages == 0
    for bad in ({"page": 0}, {"per_page": 0}, {"per_page": 101}):
        with pytest.raises(QueryError, match=r"页码|每页条数") as refused:
            search_people(connection, province, **bad)
        assert refused.value.field == next(iter(bad))  # the message is in words; the field names it
    with pytest.raises(QueryError, match="地区：地区代码“999999”不存在"):
        search_people(connection, province, region="999999")


def test_summaries_and_details_are_masked(world: tuple[Connection, World]) -> None:
    connection, built = world
    county = Scope.for_region(XING)
    [summary] = search_people(connection, county, id_number=built.id_numbers["p1"], today=TODAY).items
    assert summary.id_number_masked == masked_id_number(built.id_numbers["p1"])
    assert summary.phone_masked == masked_phone("13912345678")
    assert (summary.sex, summary.hukou_region_name) == ("male", "山西省吕梁市兴县")
    assert (summary.township_code, summary.township_name) == (WEIFEN, "蔚汾镇")
    assert summary.categories == ["poverty_alleviated"]
    assert summary.labor_capacity == "ordinary"

    detail = person_detail(connection, county, built.ids["p1"], POLICIES, today=TODAY)
    assert detail is not None
    shown = repr(dataclasses.asdict(detail))
    for key in ("p1", "p2", "p3", "p4", "p5"):
        assert built.id_numbers[key] not in shown
    assert "13912345678" not in shown
    assert detail.household is not None
    assert detail.household.number == "HH141123000001"
    assert [m.person_id for m in detail.household.members] == [built.ids["p1"], built.ids["p3"]]
    assert detail.household.members[1].id_number_masked == masked_id_number(built.id_numbers["p3"])
    assert [(c.code, c.label, c.held_today) for c in detail.categories] == [("poverty_alleviated", "脱贫人口", True)]
    assert [(s.work_region, s.work_region_name, s.organized_export) for s in detail.employment] == [
        (XING, "山西省吕梁市兴县", False),
        ("440305", "广东省", True),
    ]
    assert detail.employment[1].travel_cost_fen == 95_000 and detail.employment[1].job == "装配工"
    [entry] = detail.ledger
    assert (entry.benefit_id, entry.benefit_label, entry.fund, entry.amount_fen) == (
        "transport_cross_province",
        "跨省务工一次性交通补贴",
        "revitalization",
        50_000,
    )
    # A township assistant sees the household, but not the member whose township is unknown.
    from_township = person_detail(connection, Scope.for_region(WEIFEN), built.ids["p1"], POLICIES, today=TODAY)
    assert from_township is not None and from_township.household is not None
    assert [m.person_id for m in from_township.household.members] == [built.ids["p1"]]


def test_detail_lists_ended_periods_and_unknown_benefits(world: tuple[Connection, World]) -> None:
    connection, built = world
    p2 = person_detail(connection, Scope.for_region(WEIJIATAN), built.ids["p2"], POLICIES, today=TODAY)
    assert p2 is not None
    assert [(c.code, c.held_today, c.end_date is not None) for c in p2.categories] == [
        ("edge_of_poverty", True, False),
        ("monitored", False, True),
    ]
    assert p2.categories[1].label == "防返贫监测对象"
    assert p2.household is None
    p4 = person_detail(connection, Scope.for_region(LIN), built.ids["p4"], POLICIES, today=TODAY)
    assert p4 is not None
    [entry] = p4.ledger
    assert (entry.benefit_id, entry.benefit_label, entry.fund) == ("mystery_benefit", None, None)


def test_organization_search_and_detail(world: tuple[Connection, World]) -> None:
    connection, built = world
    province = Scope.for_region("14")
    assert [o.name for o in search_organizations(connection, province, name="帮扶").items] == ["小店区巧手帮扶车间"]
    assert search_organizations(connection, province, name="%").total == 0  # a literal percent sign
    assert [o.kind_label for o in search_organizations(connection, province, kind="heritage_workshop").items] == [
        "非遗工坊"
    ]
    assert search_organizations(connection, province, region=WEIFEN).total == 1
    with pytest.raises(QueryError, match="单位类型“factory”无效"):
        search_organizations(connection, province, kind="factory")

    detail = organization_detail(connection, Scope.for_region(XING), built.ids["o1"], POLICIES, today=TODAY)
    assert detail is not None
    assert detail.summary.region_name == "山西省吕梁市兴县" and detail.summary.kind_label == "企业"
    assert detail.summary.phone_masked == masked_phone("13500001111")
    assert "13500001111" not in repr(dataclasses.asdict(detail))
    assert [(r.code, r.label, r.held_today) for r in detail.recognitions] == [
        ("employment_base", "就业帮扶基地", True),
        ("workshop", "就业帮扶车间", False),
    ]
    assert detail.declared["absorbed_poverty_alleviated"] == 12 and detail.declared["placed_by_export"] is None
    assert (detail.employees_registered, detail.employees_today) == (2, 1)
    assert [(e.benefit_id, e.fund, e.amount_fen) for e in detail.ledger] == [
        ("employment_base_reward", "employment", 10_000_000)
    ]


def born(id_number: str) -> str:
    return f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"


def test_unmask_needs_the_permission_and_is_audited(world: tuple[Connection, World]) -> None:
    connection, built = world
    county = Scope.for_region(XING)
    before = len(audit_entries(connection))
    with pytest.raises(PermissionError, match="无权查看完整的身份证号"):
        unmask_person(connection, county, built.ids["p1"], actor="clerk", can_unmask=False, address="10.0.0.9")
    # Outside the scope, or missing: None with or without the permission (a 404 either way), nothing recorded.
    assert unmask_person(connection, county, built.ids["p5"], actor="clerk", can_unmask=False, address=None) is None
    assert unmask_person(connection, county, built.ids["p5"], actor="boss", can_unmask=True, address=None) is None
    assert unmask_person(connection, county, 987_654_321, actor="boss", can_unmask=True, address=None) is None
    assert len(audit_entries(connection)) == before

    shown = unmask_person(connection, county, built.ids["p1"], actor="boss", can_unmask=True, address="10.0.0.9")
    number = built.id_numbers["p1"]
    assert shown == {"id_number": number, "phone": "13912345678", "birth_date": born(number)}
    assert unmask_person(connection, county, built.ids["p3"], actor="boss", can_unmask=True, address=None) == {
        "id_number": built.id_numbers["p3"],
        "phone": None,
        "birth_date": born(built.id_numbers["p3"]),
    }
    entries = audit_entries(connection)[before:]
    assert [(e.actor, e.action, e.target_type, e.target_id, e.region_code, e.address) for e in entries] == [
        ("boss", "person.unmask", "person", str(built.ids["p1"]), XING, "10.0.0.9"),
        ("boss", "person.unmask", "person", str(built.ids["p3"]), XING, None),
    ]


def test_unmask_commits_its_audit_entry_when_no_transaction_is_open(scoped_registry: tuple[Engine, World]) -> None:
    engine, registry = scoped_registry
    with engine.connect() as connection:
        before = len(audit_entries(connection))
        connection.rollback()
        scope = Scope.for_region(LVLIANG)
        shown = unmask_person(connection, scope, registry.ids["p4"], actor="boss", can_unmask=True, address=None)
        assert shown is not None and shown["id_number"] == registry.id_numbers["p4"]
        assert not connection.in_transaction()
    with engine.connect() as connection:
        assert [(e.action, e.region_code) for e in audit_entries(connection)[before:]] == [("person.unmask", LIN)]


# --- indexes on a synthetic population (PostgreSQL) ----------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_id_and_name_in_county_searches_use_indexes(fresh_database: str) -> None:
    result = CliRunner().invoke(app, ["synth", "--persons", "20000", "--database", fresh_database])
    assert result.exit_code == 0, result.output
    engine = make_engine(fresh_database)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "FROM persons" in statement:
            statements.append((statement, parameters))

    try:
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            number, name, county = connection.execute(
                select(text("id_number, name, hukou_region")).select_from(text("persons")).limit(1)
            ).one()
            assert connection.scalar(select(func.count()).select_from(text("persons"))) == 20_000
            event.listen(engine, "before_cursor_execute", capture)
            province = Scope.for_region("14")
            assert search_people(connection, province, id_number=number).total == 1
            assert search_people(connection, province, name=name, region=county).total >= 1
            event.remove(engine, "before_cursor_execute", capture)
            # One lookup for the ID number (unique: no count); a count and a page for the name.
            assert len(statements) == 3
            for statement, parameters in statements:
                plan = "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
                assert "Seq Scan on persons" not in plan, plan
                assert "Seq Scan on person_categories" not in plan, plan
                assert any(kind in plan for kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")), plan
                # a name through the name index, by (term, county): ADR 0025
                index = "uq_persons_id_number" if "id_number =" in statement else "pk_person_name_terms"
                assert index in plan, plan
    finally:
        engine.dispose()
