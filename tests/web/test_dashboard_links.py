"""The dashboard leads somewhere: each figure opens the people list it counts, with the same number.

The registry of ``web_support`` has five persons, each in work outside Shanxi since 2024 (深圳), two in
townships of 兴县 and one in 兴县 without a township; the figures are refreshed for today, so every
figure and the list it links to describe the same day.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from web_support import TOWN_A, XING, Platform, api_token, build_registry, page_login

from bangfu.reports.areas import village_of
from bangfu.web.app import create_app
from bangfu.web.views import local_time
from database_servers import settings_for

LINK = re.compile(r'<a href="(/people[^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
TOTAL = re.compile(r"共 ([\d,]+) 人")


def _number(markup: str) -> int:
    return int(re.findall(r"[\d,]+", re.sub(r"<[^>]+>", " ", markup))[-1].replace(",", ""))


def _figure_links(page: str) -> list[tuple[str, int]]:
    # a figure shows its number; the navigation's link to the people list shows none
    shown = [(href, inner) for href, inner in LINK.findall(page) if re.search(r"\d", re.sub(r"<[^>]+>", " ", inner))]
    return [(html.unescape(href), _number(inner)) for href, inner in shown]


@pytest.mark.parametrize("username", ["province", "city_lvliang", "county_xing", "town_a", "auditor_lvliang"])
def test_every_figure_opens_its_people_list_with_the_same_total(platform: Platform, username: str) -> None:
    client = platform.client
    page_login(client, username)
    try:
        board = client.get("/").text
        links = _figure_links(board)
        # the five headline figures, seven categories, five work situations and each area's row
        assert len(links) >= 17, links
        for href, shown in links:
            listed = client.get(href)
            assert listed.status_code == 200, (href, listed.text[:500])
            found = TOTAL.search(listed.text)
            assert found is not None, href
            assert int(found.group(1).replace(",", "")) == shown, (href, shown)
    finally:
        client.cookies.clear()


def test_the_county_sees_its_townships_and_those_without_one(platform: Platform) -> None:
    client = platform.client
    page_login(client, "county_xing")
    try:
        board = client.get("/").text
    finally:
        client.cookies.clear()
    areas = board.split('id="areas"', 1)[1]
    assert "各乡镇（街道）" in areas
    assert "蔚汾镇" in areas and "魏家滩镇" in areas and "乡镇未登记" in areas
    assert f"/people?region={TOWN_A}&amp;work=cross_province" in areas
    # the persons only registered to the county: counted, but no township list holds them
    unplaced = areas.split("乡镇未登记", 1)[1].split("</tr>", 1)[0]
    assert "<a " not in unplaced and ">1<" in unplaced


def test_the_province_sees_its_cities_by_name(platform: Platform) -> None:
    client = platform.client
    page_login(client, "province")
    try:
        areas = client.get("/").text.split('id="areas"', 1)[1]
    finally:
        client.cookies.clear()
    assert "各市" in areas
    cities = re.findall(r'<td data-label="市">([^<]*)</td>', areas)
    # The registry's persons live in 吕梁 (兴县, 临县) and 太原 (小店区): named, each opening its list.
    assert cities == ["太原市", "吕梁市"], cities
    assert '/people?region=1411"' in areas and '/people?region=1401"' in areas


def test_the_city_sees_its_counties(platform: Platform) -> None:
    client = platform.client
    page_login(client, "city_lvliang")
    try:
        areas = client.get("/").text.split('id="areas"', 1)[1]
    finally:
        client.cookies.clear()
    assert "各县（市、区）" in areas and "兴县" in areas and "临县" in areas
    assert f"/people?region={XING}" in areas and "小店区" not in areas


def test_the_overlap_of_figures_is_explained(platform: Platform) -> None:
    client = platform.client
    page_login(client, "province")
    try:
        board = client.get("/").text
    finally:
        client.cookies.clear()
    note = board.split('id="overlap-note"', 1)[1].split("</p>", 1)[0]
    assert "相加可能超过登记人数" in note and "各计一次" in note


def test_the_as_of_line_is_in_beijing_time(platform: Platform) -> None:
    engine = create_engine(platform.url)
    try:
        with engine.connect() as connection:
            computed = connection.execute(text("SELECT max(computed_at) FROM dashboard_figures")).scalar_one()
    finally:
        engine.dispose()
    if isinstance(computed, str):
        computed = dt.datetime.fromisoformat(computed)
    client = platform.client
    page_login(client, "county_xing")
    try:
        board = client.get("/").text
    finally:
        client.cookies.clear()
    shown = local_time(computed)
    assert f"北京时间 {shown}" in board and "UTC" not in board
    utc = computed.replace(tzinfo=dt.UTC) if computed.tzinfo is None else computed
    assert shown == (utc + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


def test_local_time_is_utc_plus_eight() -> None:
    assert local_time(dt.datetime(2026, 12, 31, 17, 30, tzinfo=dt.UTC)) == "2027-01-01 01:30"
    assert local_time(dt.datetime(2026, 6, 1, 0, 0)) == "2026-06-01 08:00"  # naive values are UTC (SQLite)


def test_a_village_is_read_from_the_imported_record() -> None:
    assert village_of(json.dumps({"村": "高家村", "组": "一组"}, ensure_ascii=False)) == "高家村"
    assert village_of(json.dumps({"行政村": "李家湾村"}, ensure_ascii=False)) == "李家湾村"
    assert village_of(None) is None and village_of("not json") is None and village_of("[1]") is None


def test_a_township_sees_its_villages_each_opening_its_list(tmp_path: Path) -> None:
    """On a registry of its own: the shared one's records name no village."""
    url = f"sqlite:///{(tmp_path / 'villages.db').as_posix()}"
    persons, _ = build_registry(url)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            record = json.dumps({"村": "高家村", "户主姓名": "某某"}, ensure_ascii=False, separators=(",", ":"))
            connection.execute(
                text("UPDATE persons SET original_record = :r WHERE id = :id"),
                {"r": record, "id": persons["xing_a"].id},
            )
    finally:
        engine.dispose()
    app = create_app(settings_for(url), checks_dir=tmp_path / "checks")
    with TestClient(app, base_url="http://testserver") as client:
        page_login(client, "town_a")
        areas = client.get("/").text.split('id="areas"', 1)[1]
        assert "各村" in areas and "高家村" in areas and "暂不能按村统计" not in areas
        (href, shown), *_ = _figure_links(areas)
        assert unquote(href) == f"/people?region={TOWN_A}&village=高家村" and shown == 1
        listed = client.get(href).text
        assert "共 1 人" in listed and "测试xing_a" in listed
        assert "共 0 人" in client.get(f"/people?region={TOWN_A}&village=李家湾村").text
        # the county's list takes the same filter; a village of another township holds nobody there
        page_login(client, "county_xing")
        assert "共 1 人" in client.get("/people?village=高家村").text
        page_login(client, "town_b")
        assert "共 0 人" in client.get("/people?village=高家村").text
    app.state.context.close()


def test_the_work_filter_refuses_an_unknown_situation(platform: Platform) -> None:
    client = platform.client
    page_login(client, "county_xing")
    try:
        answer = client.get("/people?work=abroad")
    finally:
        client.cookies.clear()
    assert answer.status_code == 422
    assert "务工情况“abroad”无效" in answer.text and 'id="work-error"' in answer.text


def test_the_api_keeps_the_codes_the_page_puts_in_words(platform: Platform) -> None:
    """A refused filter's message is in words for a page; an API client also gets the field and its codes."""
    answer = platform.client.get("/api/v1/people?category=bogus", headers=api_token(platform.client, "county_xing"))
    assert answer.status_code == 422
    body = answer.json()
    assert body["field"] == "category" and "poverty_alleviated" in body["choices"]
    assert "脱贫人口" in body["detail"] and "poverty_alleviated" not in body["detail"]
