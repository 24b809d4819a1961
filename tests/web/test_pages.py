"""The pages: login, CSRF on every form, the dashboard, the policy page, the public self-check."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web_support import PASSWORD, Platform, page_login

from bangfu.accounts.users import add_user
from bangfu.store.db import make_engine
from bangfu.store.tables import Base

EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_login_then_dashboard(platform: Platform) -> None:
    page_login(platform.client, "county_xing")
    try:
        page = platform.client.get("/")
        assert page.status_code == 200
        assert "兴县" in page.text and "<svg" in page.text
        assert "统计日期" in page.text
    finally:
        platform.client.cookies.clear()


def test_login_refuses_wrong_password_in_chinese(platform: Platform) -> None:
    client = platform.client
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": "county_xing", "password": "nope-nope-nope", "csrf_token": token})
    assert answer.status_code == 401
    assert "用户名或口令错误" in answer.text
    assert "bangfu_session" not in answer.cookies


def test_login_sets_a_strict_httponly_cookie(platform: Platform) -> None:
    client = platform.client
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": "province", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"  # no open redirect
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("bangfu_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    client.cookies.clear()


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login", {"username": "province", "password": PASSWORD}),
        ("/self-check", {"date": "2024-06-30"}),
    ],
)
def test_anonymous_forms_without_csrf_are_refused(platform: Platform, path: str, data: dict[str, str]) -> None:
    client = platform.client
    client.cookies.clear()
    client.get(path)  # sets the CSRF cookie, but the post below leaves the field out
    answer = client.post(path, data=data, follow_redirects=False)
    assert answer.status_code == 403
    assert "表单已失效" in answer.text
    assert "bangfu_session" not in answer.cookies


def test_signed_in_forms_without_csrf_are_refused(platform: Platform) -> None:
    client = platform.client
    page_login(client, "county_xing")
    try:
        person = platform.persons["xing_a"]
        before = row_counts(platform.url)["audit_log"]
        refused = client.post(f"/people/{person.id}/unmask", data={"csrf_token": "forged"})
        assert refused.status_code == 403
        assert client.post("/logout", data={}).status_code == 403
        assert row_counts(platform.url)["audit_log"] == before  # nothing unmasked, nothing logged
        page = client.get(f"/people/{person.id}")
        shown = client.post(f"/people/{person.id}/unmask", data={"csrf_token": csrf_of(page.text)})
        assert shown.status_code == 200 and person.id_number in shown.text
        assert row_counts(platform.url)["audit_log"] == before + 1
    finally:
        client.cookies.clear()


def test_logout_revokes_the_session(platform: Platform) -> None:
    client = platform.client
    page_login(client, "town_a")
    cookie = client.cookies.get("bangfu_session")
    page = client.get("/")
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False).status_code == 303
    client.cookies.set("bangfu_session", cookie or "")
    assert client.get("/", follow_redirects=False).status_code == 303  # the old cookie no longer works
    client.cookies.clear()


def test_person_page_shows_what_the_policy_grants(platform: Platform) -> None:
    client = platform.client
    page_login(client, "county_xing")
    try:
        person = platform.persons["xing_a"]
        page = client.get(f"/people/{person.id}", params={"date": "2024-06-30"})
        assert page.status_code == 200
        assert "跨省务工一次性交通补贴" in page.text and "800.00 元" in page.text and "（四）" in page.text
        assert "推进劳务输出" in page.text  # the clause's own text
        assert "深圳某电子厂" in page.text
        # before the first document began (the bundled set grows; test_documents_in_force covers the rest)
        before = client.get(f"/people/{person.id}", params={"date": "2021-06-30"})
        assert "2021-06-30，山西省吕梁市兴县没有正在执行的就业帮扶政策" in before.text
        assert "status-not_in_force" not in before.text  # said once, not as a row per benefit
        bad = client.get(f"/people/{person.id}", params={"date": "2024-02-30"})
        assert "评估日期" in bad.text and "无效" in bad.text
    finally:
        client.cookies.clear()


def test_people_search_explains_bad_input(platform: Platform) -> None:
    client = platform.client
    page_login(client, "province")
    try:
        answer = client.get("/people", params={"id_number": "12345"})
        assert answer.status_code == 422
        assert "身份证号" in answer.text
        partial = client.get("/people", params={"name": "测试lin"}, headers={"HX-Request": "true"})
        assert partial.status_code == 200 and "<html" not in partial.text and "测试lin" in partial.text
    finally:
        client.cookies.clear()


def test_policy_page_lists_every_provision(platform: Platform) -> None:
    page = platform.client.get("/policy")
    assert page.status_code == 200
    for text in ("跨省务工一次性交通补贴", "（四）", "2021-07-01", "2025-12-31", "800.00 元", "市级"):
        assert text in page.text


def self_check(platform: Platform, **fields: str) -> str:
    client = platform.client
    client.cookies.clear()
    token = csrf_of(client.get("/self-check").text)
    answer = client.post("/self-check", data={"csrf_token": token, **fields})
    return f"{answer.status_code}\n{answer.text}"


def test_self_check_answers_with_the_clause_and_stores_nothing(platform: Platform) -> None:
    before = row_counts(platform.url)
    text = self_check(
        platform,
        date="2024-06-30",
        hukou_region="141123",
        categories="poverty_alleviated",
        labor_capacity="ordinary",
        work_place="other_province",
        work_province="44",
        work_start="2024-03-01",
        travel_cost="650",
    )
    assert text.startswith("200")
    assert "跨省务工一次性交通补贴" in text and "650.00 元" in text and "推进劳务输出" in text
    assert row_counts(platform.url) == before


def test_self_check_marks_bad_fields(platform: Platform) -> None:
    text = self_check(
        platform,
        date="2024-06-30",
        work_place="other_province",
        work_province="14",
        work_start="2024-3-1",
        travel_cost="六百",
        training_days="-3",
    )
    assert text.startswith("422")
    for message in ("请选择山西省以外的务工省份", "开始务工日期应为“年-月-日”", "交通费应为元", "培训天数应为"):
        assert message in text


@pytest.mark.parametrize("path", ["/login", "/self-check", "/policy"])
def test_pages_load_nothing_from_elsewhere(platform: Platform, path: str) -> None:
    page = platform.client.get(path)
    assert not EXTERNAL.search(page.text), EXTERNAL.search(page.text)
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert platform.client.get(asset).status_code == 200, asset


def test_login_is_throttled(platform: Platform) -> None:
    engine = make_engine(platform.url)
    try:
        with Session(engine) as session, session.begin():
            add_user(
                session,
                username="throttled",
                role="county",
                region_code="141124",
                password=PASSWORD,
                display_name="throttled",
                actor="tests",
            )
    finally:
        engine.dispose()
    client = platform.client
    for _ in range(5):
        answer = client.post("/api/v1/auth/token", data={"username": "throttled", "password": "wrong-wrong-1"})
        assert answer.status_code == 401
    locked = client.post("/api/v1/auth/token", data={"username": "throttled", "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "分钟" in locked.json()["detail"] or "秒" in locked.json()["detail"]


def test_people_search_by_fragment_sorted_and_paged_in_the_url(platform: Platform) -> None:
    client = platform.client
    page_login(client, "county_xing")
    try:
        # 测试 is in every name: the county's three, in pinyin order, two a page
        first = client.get("/people", params={"name": "试", "per_page": "20", "sort": "-name"})
        assert first.status_code == 200
        shown = re.findall(r'<a href="/people/\d+">([^<]+)</a>', first.text)
        assert shown == ["测试xing_none", "测试xing_b", "测试xing_a"]
        assert 'aria-sort="descending"' in first.text
        # the links keep the filters, the sort and the page size
        assert "name=%E8%AF%95&amp;sort=name&amp;per_page=20&amp;page=1" in first.text
        assert 'href="/people/export?name=%E8%AF%95"' in first.text
        by_initials = client.get("/people", params={"name": "cs", "region": "蔚汾镇"})
        assert re.findall(r'<a href="/people/\d+">([^<]+)</a>', by_initials.text) == ["测试xing_a"]
    finally:
        client.cookies.clear()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"region": "火星镇"}, "region", "找不到名为“火星镇”的山西省地区"),
        ({"region": "龙泉镇"}, "region", "有多个地区名为“龙泉镇”"),
        ({"name": "l"}, "name", "拼音首字母至少输入 2 个"),
        ({"name": "测试", "per_page": "33"}, "per_page", "每页条数应为 20、50、100 之一"),
        ({"name": "测试", "sort": "age"}, "sort", "排序方式“age”无效"),
        ({"category": "nobody"}, "category", "人员类别“nobody”无效"),
    ],
)
def test_bad_input_is_shown_beside_its_field(
    platform: Platform, params: dict[str, str], field: str, message: str
) -> None:
    client = platform.client
    page_login(client, "province")
    try:
        for headers in ({}, {"HX-Request": "true"}):  # the whole page, and what htmx swaps in
            answer = client.get("/people", params=params, headers=headers)
            assert answer.status_code == 422
            tied = re.search(rf'name="{field}"[^>]*aria-invalid="true" aria-describedby="{field}-error"', answer.text)
            assert tied, answer.text
            beside = re.search(rf'<span class="field-error" id="{field}-error">([^<]+)</span>', answer.text)
            assert beside and message in beside.group(1)
    finally:
        client.cookies.clear()


def test_the_export_link_exports_what_the_list_shows(platform: Platform) -> None:
    import io

    import openpyxl

    client = platform.client
    page_login(client, "county_xing")
    try:
        answer = client.get("/people/export", params={"region": "蔚汾镇"})
        assert answer.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert [row[0] for row in rows[1:]] == ["测试xing_a"]
        assert rows[0][3:5] == ("乡镇（街道）", "村") and rows[1][3] == "蔚汾镇"
        refused = client.get("/people/export", params={"region": "龙泉镇"})
        assert refused.status_code == 422 and 'id="region-error"' in refused.text
    finally:
        client.cookies.clear()
