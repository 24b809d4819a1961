"""The pages in a real browser: Debian's headless Chromium driven by Playwright, against a live server.

Playwright's own browser downloads cannot run on the intranet (or here), so the test launches the
system Chromium (``/usr/bin/chromium``, Debian package ``chromium``; ``.ci/run`` installs it) and
skips with the reason where it is missing.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from documents_support import PLACEHOLDER_TITLE, documents_set
from web_support import PASSWORD, build_registry

from bangfu.policy.policy_set import PolicySet
from bangfu.web.app import create_app
from database_servers import settings_for

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="没有系统 Chromium（Debian 软件包 chromium）：浏览器测试跳过；.ci/run 会安装它"
)
# The flags of a headless Chromium on a machine without network or GPU (see the environment notes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, object]]]:
    yield from serve(tmp_path_factory)


@pytest.fixture(scope="module")
def documents_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, object]]]:
    """The platform answering with the documents of ``documents_support`` (one of them a placeholder)."""
    yield from serve(tmp_path_factory, documents_set(tmp_path_factory.mktemp("policies")))


def serve(
    tmp_path_factory: pytest.TempPathFactory, policies: PolicySet | None = None
) -> Iterator[tuple[str, dict[str, object]]]:
    url = f"sqlite:///{(tmp_path_factory.mktemp('browser') / 'bangfu.db').as_posix()}"
    persons, _ = build_registry(url)
    port = free_port()
    app = create_app(settings_for(url), policies=policies, checks_dir=tmp_path_factory.mktemp("checks"))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the server did not start"
    yield f"http://127.0.0.1:{port}", {key: placed for key, placed in persons.items()}
    running.should_exit = True
    thread.join(timeout=10)
    app.state.context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    # A refused request shows in the console as a failed resource; tests that expect one name its status.
    expected = request.node.get_closest_marker("expect_status")
    allowed = [f"status of {code}" for code in (expected.args if expected else ())]
    unexpected = [e for e in errors if not any(a in e for a in allowed)]
    assert not unexpected, f"the browser reported errors (CSP violations included): {unexpected}"


def login(page: object, base: str, username: str) -> None:
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/")  # type: ignore[attr-defined]


def test_login_search_and_person_page(server: tuple[str, dict[str, object]], page: object) -> None:
    base, persons = server
    login(page, base, "county_xing")
    assert "兴县" in page.inner_text("h1")  # type: ignore[attr-defined]
    page.click("text=人员")  # type: ignore[attr-defined]
    page.fill("input[name=name]", "测试xing_a")  # type: ignore[attr-defined]
    # htmx swaps the results in place and pushes the search into the address bar.
    with page.expect_response(lambda r: "/people?" in r.url and "name=" in r.url):  # type: ignore[attr-defined]
        page.click("form.search button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#results >> text=共 1 人")  # type: ignore[attr-defined]
    assert "name=" in page.url  # type: ignore[attr-defined]
    page.click("#results a:has-text('测试xing_a')")  # type: ignore[attr-defined]
    page.wait_for_selector("h1:has-text('测试xing_a')")  # type: ignore[attr-defined]
    page.fill("input[name=date]", "2024-06-30")  # type: ignore[attr-defined]
    page.click("text=按该日评估")  # type: ignore[attr-defined]
    page.wait_for_selector("text=800.00 元")  # type: ignore[attr-defined]
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "跨省务工一次性交通补贴" in body and "（四）" in body
    number = persons["xing_a"].id_number  # type: ignore[attr-defined]
    assert number not in body  # masked


@pytest.mark.expect_status(404)
def test_other_region_is_not_found(server: tuple[str, dict[str, object]], page: object) -> None:
    base, persons = server
    login(page, base, "town_a")
    response = page.goto(f"{base}/people/{persons['lin'].id}")  # type: ignore[attr-defined]
    assert response.status == 404
    assert "未找到" in page.inner_text("body")  # type: ignore[attr-defined]


def test_self_check_in_the_browser(server: tuple[str, dict[str, object]], page: object) -> None:
    base, _ = server
    page.goto(f"{base}/self-check")  # type: ignore[attr-defined]
    page.fill("input[name=date]", "2024-06-30")  # type: ignore[attr-defined]
    page.select_option("select[name=hukou_region]", "141123")  # type: ignore[attr-defined]
    page.check("input[value=poverty_alleviated]")  # type: ignore[attr-defined]
    page.select_option("select[name=work_place]", "other_province")  # type: ignore[attr-defined]
    page.select_option("select[name=work_province]", "44")  # type: ignore[attr-defined]
    page.fill("input[name=work_start]", "2024-03-01")  # type: ignore[attr-defined]
    page.fill("input[name=travel_cost]", "650")  # type: ignore[attr-defined]
    page.click("button:has-text('测算')")  # type: ignore[attr-defined]
    page.wait_for_selector("#result")  # type: ignore[attr-defined]
    result = page.inner_text("#result")  # type: ignore[attr-defined]
    assert "您可能可以申请：跨省务工一次性交通补贴，最多 650 元" in result
    assert "650.00 元" not in result  # the officials' table is in the details, closed
    page.click("text=查看详细依据")  # type: ignore[attr-defined]
    details = page.inner_text("#result .answer-details")  # type: ignore[attr-defined]
    assert "650.00 元" in details and "（四）" in details


def test_self_check_answer_comes_first_on_a_phone(server: tuple[str, dict[str, object]], browser: object) -> None:
    """A resident on a 375 px phone: after submitting, the plain answer is what is in view (swapped in by
    htmx, and by a full page load without scripts), and nothing is wider than the screen."""
    base, _ = server
    errors: list[str] = []
    for scripts in (True, False):
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": 375, "height": 740}, locale="zh-CN", java_script_enabled=scripts
        )
        try:
            page = context.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.goto(f"{base}/self-check")
            page.fill("input[name=date]", "2024-06-30")
            page.select_option("select[name=hukou_region]", "141123")
            page.check("input[value=poverty_alleviated]")
            page.select_option("select[name=work_place]", "other_province")
            page.select_option("select[name=work_province]", "44")
            page.fill("input[name=work_start]", "2024-03-01")
            page.fill("input[name=travel_cost]", "650")
            page.click("button:has-text('测算')")
            page.wait_for_selector("#summary")
            # htmx answers in place; without scripts the browser posts to /self-check#result
            assert page.url.endswith("#result") is not scripts, page.url
            summary = page.locator("#summary")
            assert summary.is_visible()
            assert "您可能可以申请：跨省务工一次性交通补贴，最多 650 元" in summary.inner_text()
            box = summary.bounding_box()
            assert box is not None and 0 <= box["y"] < 740 / 2, box  # in view, near the top: no scrolling to find it
            # the answer comes before the form in the page, and is where the keyboard and a screen reader are
            assert page.evaluate(
                "document.getElementById('result').compareDocumentPosition(document.getElementById('check-form'))"
                " & Node.DOCUMENT_POSITION_FOLLOWING"
            )
            assert page.evaluate("document.activeElement && document.activeElement.id") == "result"
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            page.click("text=查看详细依据")  # the officials' table, opened, still fits
            assert page.locator("#result section.document").first.is_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 375
            assert not errors, errors
        finally:
            context.close()


@pytest.mark.expect_status(403)
def test_a_form_post_without_csrf_is_refused(server: tuple[str, dict[str, object]], page: object) -> None:
    base, _ = server
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    # A cross-site style post: the form's hidden token removed before submitting.
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")  # type: ignore[attr-defined]
    page.fill("input[name=username]", "province")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    with page.expect_response(f"{base}/login") as answer:  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
    assert answer.value.status == 403
    assert "表单已失效" in page.inner_text("body")  # type: ignore[attr-defined]
    assert not any(c["name"] == "bangfu_session" for c in page.context.cookies())  # type: ignore[attr-defined]


def test_phone_width(server: tuple[str, dict[str, object]], browser: object) -> None:
    base, _ = server
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{base}/self-check")
        # Nothing wider than the screen: no horizontal scrolling of the whole page on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()


def test_account_pages_fit_a_phone_and_pass_the_csp(server: tuple[str, dict[str, object]], browser: object) -> None:
    base, _ = server
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")  # type: ignore[attr-defined]
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        login(page, base, "county_xing")
        pages = (("/admin/users", "账户管理"), ("/account/password", "修改口令"), ("/account", "我的账户"))
        for path, heading in pages:
            page.goto(f"{base}{path}")
            assert heading in page.inner_text("h1"), path
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        assert page.locator(".qr svg").count() == 1  # the enrolment QR code, drawn without script or style
        assert not errors, f"the browser reported errors (CSP violations included): {errors}"
    finally:
        context.close()


def test_checks_result_fits_a_phone_and_passes_the_csp(
    server: tuple[str, dict[str, object]], browser: object, tmp_path: Path
) -> None:
    from check_support import DAY, write_csv, xing_file

    base, _ = server
    upload = write_csv(xing_file(), tmp_path / "兴县人口信息.csv")
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")  # type: ignore[attr-defined]
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        login(page, base, "county_xing")
        page.click(".menu-phone > summary")  # on a phone the menu folds under 菜单
        page.click(".menu-phone >> text=疑点核查")
        page.set_input_files("input[name=file]", str(upload))
        page.fill("#check-day", DAY.isoformat())  # the upload's own: the region form has a 核查日期 too
        page.click("text=开始核查")
        page.wait_for_url(re.compile(r".*/checks/[0-9a-f]{32}$"))
        assert "疑点核查结果" in page.inner_text("h1")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # narrow: the table's rows stand as stacked cards, each cell labelled by its column
        assert page.locator("table.stacked thead").is_hidden()
        page.click('a[href$="/rules/ZJ06"]')
        page.wait_for_url(re.compile(r".*/rules/ZJ06$"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert "*" in page.inner_text("table.stacked tbody")  # the masked ID number
        assert not errors, f"the browser reported errors (CSP violations included): {errors}"
    finally:
        context.close()


def test_the_region_check_fits_a_phone_and_passes_the_csp(
    server: tuple[str, dict[str, object]], browser: object
) -> None:
    base, _ = server
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")  # type: ignore[attr-defined]
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        login(page, base, "county_xing")
        page.click(".menu-phone > summary")  # on a phone the menu folds under 菜单
        page.click(".menu-phone >> text=疑点核查")
        page.fill("#region-year", "24")
        page.click("text=核查本地区数据")
        assert "应为四位年份" in page.inner_text("#region-year-error")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.fill("#region-year", "2024")
        page.click("text=核查本地区数据")
        page.wait_for_url(re.compile(r".*/checks/[0-9a-f]{32}$"))
        assert "登记库" in page.inner_text(".facts")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        refused = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
        errors = [error for error in errors if error != refused]  # the bad year's answer, meant
        assert not errors, f"the browser reported errors (CSP violations included): {errors}"
    finally:
        context.close()


def fits_a_phone(page: object) -> None:
    # Nothing wider than the screen: no horizontal scrolling of the whole page on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, page.url  # type: ignore[attr-defined]


def test_documents_grouped_on_a_phone(
    documents_server: tuple[str, dict[str, object]], browser: object, tmp_path: Path
) -> None:
    base, persons = documents_server
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")  # type: ignore[attr-defined]
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        login(page, base, "county_xing")
        # the person page, today: one group per document, the placeholder's badge in sight
        page.goto(f"{base}/people/{persons['xing_a'].id}")  # type: ignore[attr-defined]
        groups = page.locator("section.document")
        assert groups.count() == 3
        assert groups.first.locator("h3").inner_text() == f"《{PLACEHOLDER_TITLE}》"  # in force first
        assert page.locator("section.document.placeholder .badge-placeholder").is_visible()
        # narrow: each benefit a card of labelled lines, not a table wider than the screen
        assert page.locator("table.evaluation thead").first.is_hidden()
        assert "按 2025-12-31 的政策判断" in groups.nth(1).inner_text()
        fits_a_phone(page)
        page.screenshot(path=str(tmp_path / "person.png"), full_page=True)
        # a past date: the documents then, and the page still fits
        page.fill("input[name=date]", "2024-06-30")
        page.click("text=按该日评估")
        page.wait_for_url(re.compile(r".*date=2024-06-30$"))
        assert page.locator("section.document").count() == 2
        fits_a_phone(page)
        # the policy page: every document, in force first, the placeholder marked
        page.goto(f"{base}/policy")
        assert page.locator("article.policy-document").count() == 4
        assert page.locator("article.policy-document").first.locator(".document-meta .badge-placeholder").is_visible()
        assert page.locator("article.policy-document table.stacked thead").first.is_hidden()
        fits_a_phone(page)
        # the self-check: nothing in force on a day before every document, said once at the top
        page.goto(f"{base}/self-check")
        page.fill("input[name=date]", "2021-06-30")
        page.select_option("select[name=hukou_region]", "141123")
        page.click("button:has-text('测算')")
        page.wait_for_selector("#result")
        assert "没有正在执行的就业帮扶政策" in page.inner_text("#summary .none-in-force")
        assert page.locator("#result table").count() == 0
        fits_a_phone(page)
        # and today: the groups, the placeholder explained
        page.fill("input[name=date]", dt.date.today().isoformat())
        page.check("input[value=poverty_alleviated]")
        page.click("button:has-text('测算')")
        page.wait_for_selector("#result .summary")
        page.click("text=查看详细依据")
        page.wait_for_selector("#result section.document")
        assert "暂定标准" in page.inner_text("#result")
        fits_a_phone(page)
        page.screenshot(path=str(tmp_path / "self-check.png"), full_page=True)
        assert not errors, f"the browser reported errors (CSP violations included): {errors}"
    finally:
        context.close()


def test_documents_grouped_on_a_desktop(documents_server: tuple[str, dict[str, object]], page: object) -> None:
    base, persons = documents_server
    login(page, base, "county_xing")
    page.goto(f"{base}/people/{persons['xing_b'].id}?date=2025-06-30")  # type: ignore[attr-defined]
    groups = page.locator("section.document")  # type: ignore[attr-defined]
    assert groups.count() == 2
    assert groups.nth(1).locator("table.evaluation thead").is_visible()  # a table where there is room
    assert "已结束" in groups.nth(1).inner_text() and "按 2024-12-31 的政策判断" in groups.nth(1).inner_text()


@pytest.mark.expect_status(422)
def test_the_standards_page_fits_a_phone_and_ties_errors_to_fields(
    server: tuple[str, dict[str, object]], browser: object
) -> None:
    base, _ = server
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")  # type: ignore[attr-defined]
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        login(page, base, "city_lvliang")
        page.goto(f"{base}/admin/standards")
        assert "地方标准" in page.inner_text("h1")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.click("text=查看与设置 >> nth=0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.fill("#standard-value", "5000")
        page.fill("#standard-valid_from", "2024-01-01")
        page.fill("#standard-document_number", "吕人社发〔2024〕5号")
        page.fill("#standard-document_title", "吕梁市职业介绍补贴标准")
        page.click("text=测算并预览")
        message = page.inner_text("#standard-value-error")
        assert "5,000.00 元超出本标准允许的范围" in message
        assert page.get_attribute("#standard-value", "aria-describedby") == "standard-value-error"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.fill("#standard-value", "200")
        page.click("text=测算并预览")
        assert "确认新标准" in page.inner_text("h1")
        assert "资金测算" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        unexpected = [e for e in errors if "status of 422" not in e]
        assert not unexpected, f"the browser reported errors (CSP violations included): {unexpected}"
    finally:
        context.close()


def test_people_search_on_a_phone(server: tuple[str, dict[str, object]], browser: object) -> None:
    """A township assistant's phone: a fragment, a region by name, a bad region beside its field."""
    base, _ = server
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")  # type: ignore[attr-defined]
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        login(page, base, "county_xing")
        page.goto(f"{base}/people")
        page.fill("input[name=name]", "试")
        page.fill("input[name=region]", "蔚汾镇")
        with page.expect_response(lambda r: "/people?" in r.url and "region=" in r.url):
            page.click("form.search button[type=submit]")
        page.wait_for_selector("#results >> text=共 1 人")
        assert "region=%E8%94%9A%E6%B1%BE%E9%95%87" in page.url  # kept in the address bar
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.fill("input[name=region]", "龙泉镇")
        page.click("form.search button[type=submit]")
        beside = page.wait_for_selector("#region-error")
        assert "有多个地区名为“龙泉镇”" in beside.inner_text()
        region = page.locator("input[name=region]")
        assert region.get_attribute("aria-describedby") == "region-error"
        assert region.get_attribute("aria-invalid") == "true"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # The 422 itself is logged by Chromium as a failed load: it is the answer asked for.
        errors = [e for e in errors if "status of 422" not in e]
        assert not errors, f"the browser reported errors (CSP violations included): {errors}"
    finally:
        context.close()
