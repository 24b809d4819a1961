"""已发放明细: each money figure of a dashboard opens the entries it sums, with the same total.

The registry of ``web_support`` pays each of its five persons 800 元 (交通补贴) on 2023-02-01; the
figures are refreshed for 2023 here (and for today again afterwards, for the other tests).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from web_support import Platform, page_login

from bangfu.policy.policy_set import PolicySet
from bangfu.reports.dashboard import refresh_figures

FUND_LINK = re.compile(r'<a href="(/ledger\?[^"]*)" aria-label="[^"：]*：([\d,.]+) 元"')
SUMMED = re.compile(r"共 ([\d,]+) 笔，合计 ([\d,.]+)")


def _refresh(url: str, day: dt.date) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            refresh_figures(connection, day, PolicySet.bundled())
    finally:
        engine.dispose()


@pytest.fixture
def figures_of_2023(platform: Platform) -> Iterator[Platform]:
    _refresh(platform.url, dt.date(2023, 12, 31))
    try:
        yield platform
    finally:
        _refresh(platform.url, dt.date.today())
        platform.client.cookies.clear()


@pytest.mark.parametrize(("username", "entries"), [("province", 5), ("county_xing", 3), ("town_a", 1)])
def test_each_money_figure_opens_its_entries_with_the_same_total(
    figures_of_2023: Platform, username: str, entries: int
) -> None:
    client = figures_of_2023.client
    page_login(client, username)
    links = FUND_LINK.findall(client.get("/").text)
    assert links, "the dashboard shows no money figure with a link"
    for href, shown in links:
        assert "year=2023" in href
        listed = client.get(html.unescape(href))
        assert listed.status_code == 200, listed.text[:500]
        found = SUMMED.search(listed.text)
        assert found is not None, listed.text[:2000]
        assert (int(found.group(1).replace(",", "")), found.group(2)) == (entries, shown)
        assert listed.text.count('href="/people/') == entries


def test_entries_are_masked_and_scoped(platform: Platform) -> None:
    client = platform.client
    page_login(client, "county_xing")
    try:
        page = client.get("/ledger", params={"year": "2023"}).text
        xing = [p for p in platform.persons.values() if p.county == "141123"]
        assert len(xing) == 3 and "共 3 笔，合计 2,400.00" in page
        for person in platform.persons.values():
            assert person.id_number not in page  # masked, never whole
        assert f"/people/{platform.persons['xiaodian'].id}" not in page  # another city's
        # A region outside the account's answers nothing, not an error.
        assert "共 0 笔" in client.get("/ledger", params={"region": "孝义市"}).text
    finally:
        client.cookies.clear()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"year": "23"}, "year", "年度应为四位数字（如 2024），实为“23”"),
        ({"year": "1900"}, "year", "年度应在 2000 到 2100 之间"),
        ({"fund": "lottery"}, "fund", "资金来源“lottery”无效"),
        ({"region": "不存在县"}, "region", "地区："),
    ],
)
def test_bad_filters_are_shown_beside_their_field(
    platform: Platform, params: dict[str, str], field: str, message: str
) -> None:
    client = platform.client
    page_login(client, "county_xing")
    try:
        answer = client.get("/ledger", params=params)
        assert answer.status_code == 422
        assert f'aria-describedby="{field}-error"' in answer.text
        assert message in html.unescape(answer.text.split(f'id="{field}-error">', 1)[1].split("</span>", 1)[0])
    finally:
        client.cookies.clear()


def test_signed_out_is_sent_to_sign_in(platform: Platform) -> None:
    platform.client.cookies.clear()
    answer = platform.client.get("/ledger", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
