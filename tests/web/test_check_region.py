"""The checks page's second form: check the account's own region straight from the registry.

The registry is ``web_support``'s: three persons in 兴县 (two of them in its townships A and B), one
in 临县, one in 小店区. Its persons have no 户类型 of a download's kind and no education, so HU06 and
JY02 find each of them; that is enough to see counts, rows and their masking.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from check_support import DAY, audit_entries, summary_counts
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import TOWN_A, XING, Platform, csrf_of, page_login

from bangfu.access.scope import Scope
from bangfu.audit.log import LOG
from bangfu.checks.ruleset import load_rules
from bangfu.checks.run import check_registry
from bangfu.core.disclosure import masked_id_number
from bangfu.store.db import make_engine
from bangfu.web.routes import check_pages


def check_region(client: TestClient, *, year: str = "", day: str = DAY.isoformat()) -> object:
    form = client.get("/checks")
    assert form.status_code == 200 and 'action="/checks/region"' in form.text
    data = {"year": year, "day": day, "csrf_token": csrf_of(form.text)}
    return client.post("/checks/region", data=data, follow_redirects=False)


def run_region(platform: Platform, username: str, **form: str) -> str:
    page_login(platform.client, username)
    answer = check_region(platform.client, **form)
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    location = answer.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/checks/[0-9a-f]{32}", location)
    return str(location.rsplit("/", 1)[1])


def expected_cells(url: str, region: str, day: dt.date) -> dict[str, str]:
    """What the summary must say per rule: ``check_registry``'s own counts for the scope."""
    engine = make_engine(url)
    try:
        with check_registry(engine, Scope.for_region(region), load_rules(), day, None) as run:
            return {r.rule.id: f"{r.count:,}" if r.checked else r.not_checked for r in run.results}
    finally:
        engine.dispose()


def test_a_countys_region_check_counts_as_the_registry_check_does(platform: Platform) -> None:
    run_id = run_region(platform, "county_xing")
    result = platform.client.get(f"/checks/{run_id}")
    assert result.status_code == 200
    assert "登记库（" in result.text and "兴县" in result.text
    expected = expected_cells(platform.url, XING, DAY)
    assert summary_counts(result.text) == expected
    assert expected["HU06"] == "3"  # the registry's three persons of 兴县, not 临县's or 小店区's
    assert any(cell.startswith("未核查") for cell in expected.values())  # columns the registry lacks


def test_the_rows_are_masked_and_the_check_is_audited(platform: Platform) -> None:
    run_id = run_region(platform, "county_xing", year="2024")
    # on the log when the answer came: one entry, the account's, of the registry source
    assert audit_entries(platform.url, run_id) == [("county_xing", "checks.registry")]
    engine = make_engine(platform.url)
    try:
        with engine.connect() as connection:
            [after] = connection.execute(select(LOG.c.after).where(LOG.c.target_id == run_id)).scalars()
    finally:
        engine.dispose()
    assert json.loads(after) | {"suspect_rows": 0, "suspect_rules": 0} == {
        "source": "registry",
        "year": 2024,
        "rows": 3,
        "masked": True,
        "suspect_rows": 0,
        "suspect_rules": 0,
    }
    rows = platform.client.get(f"/checks/{run_id}/rules/HU06")
    assert rows.status_code == 200
    for key in ("xing_a", "xing_b", "xing_none"):
        person = platform.persons[key]
        assert f"测试{key}" in rows.text
        assert person.id_number not in rows.text and masked_id_number(person.id_number) in rows.text
    assert "测试lin" not in rows.text and "测试xiaodian" not in rows.text


@pytest.mark.parametrize("other", ["county_xiaodian", "city_lvliang", "province"])
def test_another_account_gets_not_found(platform: Platform, other: str) -> None:
    run_id = run_region(platform, "county_xing")
    page_login(platform.client, other)
    for path in ("", "/rules/HU06", "/download/summary", "/download/rules/HU06"):
        assert platform.client.get(f"/checks/{run_id}{path}").status_code == 404, path


def test_a_township_account_checks_its_township_only(platform: Platform) -> None:
    run_id = run_region(platform, "town_a")
    result = platform.client.get(f"/checks/{run_id}")
    assert summary_counts(result.text) == expected_cells(platform.url, TOWN_A, DAY)
    rows = platform.client.get(f"/checks/{run_id}/rules/HU06")
    assert "测试xing_a" in rows.text and "测试xing_b" not in rows.text and "测试xing_none" not in rows.text


def test_bad_year_and_day_are_refused_next_to_their_field(platform: Platform) -> None:
    page_login(platform.client, "county_xing")
    before = len(audit_entries_of(platform.url, "county_xing"))
    for form, field, message in (
        ({"year": "24"}, "region-year", "年度“24”无效"),
        ({"year": "２０２４"}, "region-year", "应为四位年份"),
        ({"year": "1899"}, "region-year", "年度“1899”无效"),
        ({"day": "2024-13-01"}, "region-day", "核查日期“2024-13-01”无效"),
    ):
        answer = check_region(platform.client, **form)
        assert answer.status_code == 422, form  # type: ignore[attr-defined]
        text = answer.text  # type: ignore[attr-defined]
        assert message in text and f'id="{field}-error"' in text, form
        assert f'aria-describedby="{field}-error"' in text, form
    assert len(audit_entries_of(platform.url, "county_xing")) == before  # nothing checked, nothing logged
    form = platform.client.get("/checks")
    assert platform.client.post("/checks/region", data={"csrf_token": ""}).status_code == 403
    assert form.status_code == 200


def test_a_region_past_the_pages_limit_is_sent_to_the_command(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_pages, "REGION_CHECK_LIMIT", 3)  # 吕梁市 has four persons here
    page_login(platform.client, "city_lvliang")
    answer = check_region(platform.client)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    # the server's command, in words (no command line on a page): the administrator runs it for 1411
    assert "系统管理员在服务器上按本地区核查" in answer.text and "行政区划代码 1411" in answer.text  # type: ignore[attr-defined]
    assert audit_entries_of(platform.url, "city_lvliang") == []
    page_login(platform.client, "county_xing")  # three: still checked on the page
    assert check_region(platform.client).status_code == 303  # type: ignore[attr-defined]


def audit_entries_of(url: str, actor: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            query = select(LOG.c.action).where(LOG.c.actor == actor, LOG.c.action == "checks.registry")
            return list(connection.execute(query).scalars())
    finally:
        engine.dispose()
