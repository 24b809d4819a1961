"""Organizations as township assistants and county staff work with them (issue 11; ADR 0029): imported at a
township, seen by that township; exported like the people roster; linked from a person's employment;
and a declared count of absorbed people that differs from the registered workers explained in words."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_support import TOWN_A, XING, api_token, build_registry, page_login

from bangfu.core import regions
from bangfu.registry.imports.importer import import_file
from bangfu.registry.imports.values import credit_code_check_char
from bangfu.registry.organization_export import HEADERS
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry, EmploymentSpell, Organization, Person
from bangfu.web.app import create_app
from database_servers import settings_for
from hostile_files import assert_no_formula_cells

FORMULA_NAME = '=HYPERLINK("http://x","y")'
TOWN_NAME = regions.name_of(TOWN_A)


def credit(serial: int) -> str:
    first17 = f"911411{serial:03d}MA0GRL5B"
    return first17 + credit_code_check_char(first17)


@dataclass(frozen=True)
class Orgs:
    client: TestClient
    url: str
    town: int  # 蔚汾合作社, imported at TOWN_A: declares 5 absorbed, one registered worker in post
    county: int  # org_xing of web_support, at the county: declares 12, none registered
    formula: int  # at the county, named like a formula
    xiaodian: int  # org_xiaodian, in 小店区: outside 兴县's scope
    person_a: int  # 测试xing_a, works at the township's organization
    person_none: int  # 测试xing_none, works at the organization of 小店区


@pytest.fixture(scope="module")
def orgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orgs]:
    # A platform of its own: the shared one's tests count its organizations exactly.
    folder = tmp_path_factory.mktemp("organizations")
    url = f"sqlite:///{(folder / 'bangfu.db').as_posix()}"
    build_registry(url)
    source = folder / "organizations.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["单位名称", "统一社会信用代码", "单位类型", "所在县", "所在乡镇（街道）", "联系电话"])
        writer.writerow(["蔚汾合作社", credit(1), "就业帮扶车间", "兴县", TOWN_NAME, "13912345678"])
        writer.writerow([FORMULA_NAME, credit(2), "企业", "兴县", "", ""])
    engine = make_engine(url)
    try:
        assert import_file(engine, "organizations", source).inserted == 2
        with Session(engine) as session, session.begin():
            ids = {org.name: org.id for org in session.scalars(select(Organization))}
            session.execute(
                Organization.__table__.update()
                .where(Organization.id == ids["蔚汾合作社"])
                .values(absorbed_poverty_alleviated=5, absorbed_edge_of_poverty=0)
            )
            people = {person.name: person.id for person in session.scalars(select(Person))}
            for person, employer in (("测试xing_a", "蔚汾合作社"), ("测试xing_none", "org_xiaodian 有限公司")):
                session.add(
                    EmploymentSpell(
                        person_id=people[person],
                        employer_org_id=ids[employer],
                        employer_name=employer,
                        work_region=XING,
                        start_date=dt.date(2024, 1, 1),
                    )
                )
    finally:
        engine.dispose()
    app = create_app(settings_for(url))
    with TestClient(app, base_url="http://testserver") as client:
        yield Orgs(
            client,
            url,
            ids["蔚汾合作社"],
            ids["org_xing 有限公司"],
            ids[FORMULA_NAME],
            ids["org_xiaodian 有限公司"],
            people["测试xing_a"],
            people["测试xing_none"],
        )
    app.state.context.close()


def listed(client: TestClient, username: str) -> set[int]:
    answer = client.get("/api/v1/organizations", params={"per_page": 100}, headers=api_token(client, username))
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["items"]}


def test_an_imported_township_is_where_the_organization_is_registered(orgs: Orgs) -> None:
    engine = make_engine(orgs.url)
    try:
        with engine.connect() as connection:
            codes = dict(connection.execute(select(Organization.id, Organization.region_code)).all())
    finally:
        engine.dispose()
    assert (codes[orgs.town], codes[orgs.formula]) == (TOWN_A, XING)


def test_a_township_sees_the_organizations_of_its_township(orgs: Orgs) -> None:
    client = orgs.client
    assert listed(client, "town_a") == {orgs.town}
    assert listed(client, "town_b") == set()  # the next township of 兴县 sees none of them
    assert listed(client, "county_xing") == {orgs.town, orgs.county, orgs.formula}
    assert listed(client, "county_xiaodian") == {orgs.xiaodian}
    town_b = api_token(client, "town_b")
    assert client.get(f"/api/v1/organizations/{orgs.town}", headers=town_b).status_code == 404
    assert client.get(f"/api/v1/organizations/{orgs.town}", headers=api_token(client, "town_a")).status_code == 200
    page_login(client, "town_a")
    try:
        page = client.get("/organizations")
        assert page.status_code == 200
        assert "蔚汾合作社" in page.text and "org_xing" not in page.text
        assert client.get(f"/organizations/{orgs.county}").status_code == 404
        # Searched by the township's name, as the field's hint says
        assert "蔚汾合作社" in client.get("/organizations", params={"region": TOWN_NAME}).text
    finally:
        client.cookies.clear()


def test_the_employer_links_to_its_organization_when_the_reader_may_open_it(orgs: Orgs) -> None:
    client = orgs.client
    for username in ("county_xing", "town_a"):
        page_login(client, username)
        try:
            page = client.get(f"/people/{orgs.person_a}")
            assert page.status_code == 200
            assert f'<a href="/organizations/{orgs.town}">蔚汾合作社</a>' in page.text, username
            assert client.get(f"/organizations/{orgs.town}").status_code == 200  # the link opens
        finally:
            client.cookies.clear()
    page_login(client, "county_xing")
    try:
        # Registered, but in 小店区: 兴县 could not open it, so its name is plain text.
        page = client.get(f"/people/{orgs.person_none}")
        assert "org_xiaodian 有限公司" in page.text
        assert f'href="/organizations/{orgs.xiaodian}"' not in page.text
        # An employer the import could not match stays text too.
        assert "深圳某电子厂</a>" not in page.text
    finally:
        client.cookies.clear()
    detail = client.get(f"/api/v1/people/{orgs.person_a}", headers=api_token(client, "county_xing")).json()
    employers = {(e["employer_name"], e["employer_org_id"], e["employer_in_scope"]) for e in detail["employment"]}
    assert ("蔚汾合作社", orgs.town, True) in employers and ("深圳某电子厂", None, False) in employers


def notes(html: str) -> list[str]:
    return re.findall(r'<p class="notice warn workers">([^<]+)</p>', html)


def test_the_organization_page_explains_declared_against_registered_workers(orgs: Orgs) -> None:
    client = orgs.client
    page_login(client, "county_xing")
    try:
        town = notes(client.get(f"/organizations/{orgs.town}").text)
        county = notes(client.get(f"/organizations/{orgs.county}").text)
        formula = notes(client.get(f"/organizations/{orgs.formula}").text)
    finally:
        client.cookies.clear()
    # 5 declared, 1 in post (测试xing_a, 脱贫人口); 0 边缘易致贫人口 declared and registered: nothing to say.
    assert len(town) == 1, town
    assert town[0].startswith("单位申报吸纳脱贫人口 5 人，平台登记目前在本单位务工的脱贫人口 1 人，少 4 人。")
    assert "务工记录尚未导入" in town[0]
    assert len(county) == 1 and county[0].startswith(
        "单位申报吸纳脱贫人口 12 人，平台登记目前在本单位务工的脱贫人口 0 人"
    )
    assert formula == []  # declared nothing: unknown is not zero, nothing to compare


def test_the_organization_export_holds_the_search_masked_and_audited(orgs: Orgs) -> None:
    client = orgs.client
    headers = api_token(client, "county_xing")
    answer = client.get("/api/v1/organizations/export", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert assert_no_formula_cells(answer.content, (FORMULA_NAME,)) == ["'" + FORMULA_NAME]
    rows = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    by_name = {row[0]: dict(zip(HEADERS, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"蔚汾合作社", "org_xing 有限公司", "'" + FORMULA_NAME}
    town = by_name["蔚汾合作社"]
    assert (town["所在县"], town["乡镇（街道）"], town["单位类型"]) == ("山西省吕梁市兴县", TOWN_NAME, "就业帮扶车间")
    assert town["联系电话"] == "139******78"
    assert (town["登记在岗人数"], town["吸纳脱贫人口数"], town["吸纳边缘易致贫人口数"]) == (1, 5, 0)
    assert by_name["org_xing 有限公司"]["吸纳边缘易致贫人口数"] is None  # not declared: empty, not 0
    # The search's filters, on the page's export link and the API alike
    filtered = client.get("/api/v1/organizations/export", params={"name": "合作社"}, headers=headers)
    names = [row[0] for row in load_workbook(io.BytesIO(filtered.content)).active.iter_rows(values_only=True)]
    assert names[1:] == ["蔚汾合作社"]
    page_login(client, "town_a")
    try:
        mine = client.get("/organizations/export")
        assert [r[0] for r in load_workbook(io.BytesIO(mine.content)).active.iter_rows(values_only=True)][1:] == [
            "蔚汾合作社"
        ]
        refused = client.get("/organizations/export", params={"kind": "factory"})
        assert refused.status_code == 422 and "单位类型“factory”无效" in refused.text
    finally:
        client.cookies.clear()
    engine = make_engine(orgs.url)
    try:
        with engine.connect() as connection:
            entries = connection.execute(
                select(AuditEntry.actor, AuditEntry.after).where(AuditEntry.action == "organizations.export")
            ).all()
    finally:
        engine.dispose()
    recorded = [(actor, json.loads(after) if isinstance(after, str) else after) for actor, after in entries]
    assert ("county_xing", {"rows": 3, "masked": True}) in recorded
    assert ("county_xing", {"rows": 1, "masked": True, "filters": {"name": "合作社"}}) in recorded
    assert ("town_a", {"rows": 1, "masked": True}) in recorded


def test_the_organizations_page_offers_the_export_of_its_search(orgs: Orgs) -> None:
    client = orgs.client
    page_login(client, "county_xing")
    try:
        page = client.get("/organizations", params={"name": "合作社", "region": XING})
        assert f'href="/organizations/export?name=%E5%90%88%E4%BD%9C%E7%A4%BE&amp;region={XING}"' in page.text
        assert "导出当前查询条件下的单位名单" in page.text
        assert "导出本地区单位名单" in client.get("/organizations").text
    finally:
        client.cookies.clear()
