"""Every page, as every role sees it, says nothing in the app's internal words (issue 11).

The crawler signs in as each account of ``web_support`` (province, city, county, township, auditor) and
as nobody, opens the dashboard, the known routes (every GET page of ``web/routes``, checked below to be
complete) with good and bad input, the error pages (404, 403, 422) and a few refused forms, and follows
every same-site link it finds. Each page's visible text (``page_words.visible_text``) must hold no
internal word (``page_words.leaks``). Names and addresses of the registry are taken out first: the test
registry writes them in ASCII (测试xing_a), and they are the records, not the app's words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from urllib.parse import urljoin, urlsplit

import pytest
from claims_web_support import drafted
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from page_words import leaks, visible_text
from sqlalchemy import create_engine, text
from web_support import ACCOUNTS, Platform, page_login

from bangfu.policy.policy_set import PolicySet

MAX_PAGES_PER_ROLE = 250
# What the crawler types into fields; a page may say it back ("排序方式“bogus”无效").
TYPED = ["bogus", "zzz", "abc", "bad", "not-a-date", "nothing", "nowhere", "many", "x"]
HREF = re.compile(r"""href="([^"#]*)(?:#[^"]*)?\"""")
# Not pages: files, the API, the way out.
NOT_PAGES = ("/static/", "/api/", "/logout", "/people/export", "/openapi", "/docs", "/redoc")
NOT_PAGE_SUFFIXES = ("/download/summary",)


def _document_ids() -> list[str]:
    return [document.id for document in PolicySet.bundled().documents]


def _known_routes(platform: Platform) -> list[str]:
    person = next(iter(platform.persons.values())).id
    org = next(iter(platform.organizations.values())).id
    documents = _document_ids()
    today = dt.date.today()
    routes = [
        "/",
        "/login",
        "/login?next=//elsewhere.example",
        "/self-check",
        "/policy",
        f"/policy?date={today.isoformat()}",
        "/policy?date=2019-06-30",
        "/policy?date=2031-01-01",
        "/policy?date=not-a-date",
        "/people",
        "/people?category=poverty_alleviated",
        "/people?id_number=123",
        "/people?id_number=141123198503010010",
        "/people?sort=bogus",
        "/people?per_page=7",
        "/people?page=0",
        "/people?category=bogus",
        "/people?region=zzz",
        "/people?region=吕梁市",
        "/people?name=!!",
        "/people/abc",
        "/people/999999999",
        f"/people/{person}",
        f"/people/{person}?date=bad",
        f"/people/{person}?date=2019-01-01",
        "/organizations",
        "/organizations?kind=bogus",
        "/organizations?page=abc",
        "/organizations?region=zzz",
        f"/organizations/{org}",
        f"/organizations/{org}?date=bad",
        "/organizations/999999999",
        "/ledger",
        "/ledger?year=2023&fund=revitalization",
        "/ledger?fund=bogus",
        "/ledger?year=abc",
        "/ledger?region=zzz",
        "/ledger?page=abc",
        "/claims",
        "/claims?status=bogus",
        "/claims?sort=bogus",
        "/claims?flagged=maybe&per_page=7",
        "/claims?status=checked&flagged=yes",
        "/claims/new",
        "/claims/new?q=测试",
        "/claims/new?q=!!",
        f"/claims/new?person={person}",
        "/claims/new?person=999999999",
        "/claims/999999999",
        "/claims/abc",
        *(f"/claims/{claim}" for claim in _claims(platform)),
        "/checks",
        "/checks/999999",
        "/checks/abc",
        "/checks/999999/rules/nothing",
        "/payments",
        "/payments?fund=bogus",
        "/payments?county=zzz",
        "/payments?status=bogus",
        "/payments?page=abc",
        "/payments/returns",
        "/payments/reconciliation",
        "/payments/reconciliation?fund=bogus&county=nowhere",
        "/payments/999999999",
        "/payments/abc",
        "/admin/users",
        "/admin/standards",
        "/admin/standards/nothing/nothing",
        f"/admin/standards/{documents[0]}/nothing",
        "/admin/policies",
        "/account",
        "/account/password",
        "/nowhere",
    ]
    return routes


def _claims(platform: Platform) -> list[int]:
    engine = create_engine(platform.url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT id FROM claims ORDER BY id")).scalars())
    finally:
        engine.dispose()


def _is_page(path: str) -> bool:
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return False
    return not parts.path.startswith(NOT_PAGES) and not parts.path.endswith(NOT_PAGE_SUFFIXES)


def _links(html: str, base: str) -> Iterator[str]:
    for href in HREF.findall(html):
        if not href:
            continue
        target = urljoin("http://testserver" + base, href.replace("&amp;", "&"))
        parts = urlsplit(target)
        if parts.netloc != "testserver":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if _is_page(path) and "/download/" not in path:
            yield path


def _registry_words(platform: Platform) -> list[str]:
    """Names and addresses the registry holds, and the accounts' names: the records, not the app's words."""
    engine = create_engine(platform.url)
    try:
        with engine.connect() as connection:
            words = [
                *connection.execute(text("SELECT name FROM persons")).scalars(),
                *connection.execute(text("SELECT name FROM organizations")).scalars(),
                *connection.execute(text("SELECT address FROM households")).scalars(),
                *connection.execute(text("SELECT username FROM users")).scalars(),
                *connection.execute(text("SELECT display_name FROM users")).scalars(),
            ]
    finally:
        engine.dispose()
    return [w for w in words if w] + TYPED


def _crawl(client: TestClient, start: list[str]) -> dict[str, str]:
    """Visible text of every page reached from ``start``, by path."""
    seen: dict[str, str] = {}
    queue = list(start)
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        path = queue.pop(0)
        if path in seen:
            continue
        answer = client.get(path, follow_redirects=True)
        if "text/html" not in answer.headers.get("content-type", ""):
            seen[path] = ""
            continue
        seen[path] = visible_text(answer.text)
        final = urlsplit(str(answer.url))
        queue += [link for link in _links(answer.text, final.path) if link not in seen]
    return seen


def _form_token(html: str) -> str:
    """The token of the page's own form: the last one (the first is the header's sign-out form)."""
    return re.findall(r'name="csrf_token" value="([^"]*)"', html)[-1]


def _refused_forms(
    client: TestClient, role: str | None, claim_ids: Sequence[int] = (), person_id: int = 0
) -> dict[str, str]:
    """Forms sent with bad values: their error messages are pages too."""
    shown: dict[str, str] = {}
    form = client.get("/self-check")
    answer = client.post(
        "/self-check",
        data={
            "csrf_token": _form_token(form.text),
            "date": "x",
            "birth_date": "1985-13-40",
            "hukou_region": "nowhere",
            "travel_cost": "-12.345",
            "training_days": "many",
            "work_place": "bogus",
            "work_start": "x",
            "labor_capacity": "bogus",
        },
    )
    shown["POST /self-check"] = visible_text(answer.text)
    # answered: little known (every benefit asks for facts, local standards included) and much known
    for name, facts in {
        "sparse": {"date": dt.date.today().isoformat(), "categories": "poverty_alleviated", "hukou_region": "141123"},
        "full": {
            "date": dt.date.today().isoformat(),
            "categories": "poverty_alleviated",
            "hukou_region": "141123",
            "labor_capacity": "ordinary",
            "birth_date": "1985-03-01",
            "work_place": "other_province",
            "work_province": "44",
            "work_start": f"{dt.date.today().year}-03-01",
            "organized": "yes",
            "travel_cost": "950",
            "training_days": "10",
        },
    }.items():
        form = client.get("/self-check")
        answer = client.post("/self-check", data={"csrf_token": _form_token(form.text), **facts})
        assert answer.status_code == 200, answer.text
        shown[f"POST /self-check {name}"] = visible_text(answer.text)
    # claim decisions refused (no reason, not allowed, stale) and an application refused
    for claim_id in claim_ids:
        page = client.get(f"/claims/{claim_id}")
        for action, reason, seen in (("reject", "", ""), ("approve", "", ""), ("return", "x", "approved")):
            answer = client.post(
                f"/claims/{claim_id}/{action}",
                data={"csrf_token": _form_token(page.text), "reason": reason, "seen_status": seen},
            )
            shown[f"POST /claims/{claim_id}/{action}"] = visible_text(answer.text)
    if role in ("township", "county"):
        form = client.get("/claims/new")
        answer = client.post(
            "/claims/new", data={"csrf_token": _form_token(form.text), "person": str(person_id), "benefit": "x|y"}
        )
        shown["POST /claims/new"] = visible_text(answer.text)
    if role in ("city", "county"):
        standards = client.get("/admin/standards")
        for link in sorted(set(re.findall(r'href="(/admin/standards/[^"]+)"', standards.text))):
            page = client.get(link)
            for value in ("abc", "-5", "99999999999", "1.234"):
                answer = client.post(
                    f"{link}/preview",
                    data={
                        "csrf_token": _form_token(page.text),
                        "value": value,
                        "valid_from": "x",
                        "valid_to": "2000-01-01",
                        "document_number": "",
                        "document_title": "",
                    },
                )
                shown[f"POST {link}/preview {value}"] = visible_text(answer.text)
    return shown


def _every_role() -> list[tuple[str | None, str | None]]:
    return [(None, None), *((username, role) for username, role, _, _ in ACCOUNTS)]


@pytest.fixture(scope="module")
def sqlite_platform(platform: Platform) -> Platform:
    if not platform.url.startswith("sqlite"):
        pytest.skip("the words of a page do not depend on the database: crawled once, on SQLite")
    if not _claims(platform):
        # A claim to open, one of them flagged (its checks' reasons): drafted as a township assistant does.
        for key, amount in (("xing_a", None), ("xing_b", 70_000)):
            drafted(platform.url, platform.persons[key].id, "town_a", amount_fen=amount)
    return platform


@pytest.mark.parametrize(("username", "role"), _every_role(), ids=lambda v: v or "anonymous")
def test_no_internal_words_on_any_page(sqlite_platform: Platform, username: str | None, role: str | None) -> None:
    client = sqlite_platform.client
    client.cookies.clear()
    if username is not None:
        page_login(client, username)
    try:
        pages = _crawl(client, _known_routes(sqlite_platform))
        person_id = sqlite_platform.persons["xing_a"].id
        pages |= _refused_forms(client, role, _claims(sqlite_platform) if username else [], person_id)
    finally:
        client.cookies.clear()
    data = _registry_words(sqlite_platform)
    documents = _document_ids()
    found = {path: words for path, shown in pages.items() if (words := leaks(shown, documents, data))}
    assert len(pages) > 20, sorted(pages)
    assert all("表单已失效" not in shown for shown in pages.values()), "a refused form was not checked"
    assert not found, "\n".join(f"{path}: {sorted(set(words))}" for path, words in sorted(found.items()))


def test_the_known_routes_cover_every_page(sqlite_platform: Platform) -> None:
    """A new GET page must be added to the crawler's known routes (it may not be linked from anywhere)."""
    known = {urlsplit(path).path for path in _known_routes(sqlite_platform)}
    app = sqlite_platform.client.app
    missing = []
    for route in app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or "GET" not in route.methods or route.path.startswith("/api/"):
            continue
        if any(part in route.path for part in ("/download/", "/export")):
            continue
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", route.path) + "$")
        if not any(pattern.match(path) for path in known):
            missing.append(route.path)
    assert not missing, f"pages the crawler does not open: {missing}"


@pytest.mark.parametrize(
    ("shown", "kind"),
    [
        ("参数 parameter:one_time_hiring_subsidy.per_person_fen 未设定", "内部键"),
        ("缺少 person.employment[0].travel_cost_fen", "字段路径"),
        ("由city制定", "英文角色或层级词"),
        ("《shanxi-2021》", "文件编号"),
        ("请运行 bangfu stats refresh", "命令行"),
        ("金额应为整数（分）", "以分为金额单位"),
        ("请设置 BANGFU_POLICY_DIR", "环境变量"),
        ("Input should be a valid integer", "英文词"),
        ("标准 30000 分", "以分为金额单位"),
    ],
)
def test_the_checker_finds_each_kind_of_leak(shown: str, kind: str) -> None:
    assert any(word.startswith(kind) for word in leaks(shown, _document_ids())), leaks(shown, _document_ids())


def test_the_records_taken_out_do_not_hide_a_leak() -> None:
    # an account is named "province"; the header shows it, an English level glued into a sentence is a leak
    assert leaks("province（省级管理员，山西省）", [], ["province"]) == []
    assert leaks("由province制定", [], ["province"]) == ["英文角色或层级词: province", "英文词: province"]
    assert leaks("Excel 金额“x”格式不正确", [], ["x"]) == []
    assert leaks("核查文件 兴县人口信息.csv", []) == []  # an uploaded file's name


def test_the_checker_passes_plain_chinese() -> None:
    shown = "部分人员 · 分类 · 身份证号 1411************1X · 30 分钟 · 金额 300.00 元 · 帮扶（Bangfu）"
    assert leaks(shown, _document_ids()) == []


def test_visible_text_reads_attributes_and_skips_scripts() -> None:
    html = '<p title="省 city">一</p><input placeholder="请输入 person.name"><script>var a_b = 1;</script>'
    shown = visible_text(html)
    assert "city" in shown and "person.name" in shown and "a_b" not in shown
