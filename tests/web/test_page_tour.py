"""Every page, as the role that uses it, on a phone (375 px) and a desktop (1366 px), in Debian's Chromium.

On each page: nothing wider than the screen, no axe-core violation of impact serious or critical, on a
phone every control thumb-sized; a full-page screenshot is left in $BANGFU_SCREENSHOTS (or a temporary
folder) for a reviewer. Then what one tour cannot show: the skip link and the focus ring's contrast, the
print stylesheet, the search's live region, field errors tied to their fields (ADR 0027).

One live server and one browser for the module; each width one browser context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from page_checks import (
    DESKTOP,
    PHONE,
    axe_violations,
    contrast,
    focus_ring,
    overflow,
    screenshot_dir,
    small_targets,
)
from test_browser import CHROMIUM, CHROMIUM_ARGS, serve
from web_support import PASSWORD

from totp_codes import Codes

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="没有系统 Chromium（Debian 软件包 chromium）：浏览器测试跳过；.ci/run 会安装它"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from serve(tmp_path_factory)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


def open_context(chromium: Any, width: int) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A refused request (404, 422) is logged as a failed load; anything else, a CSP violation above all, is not.
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
    )
    return context, page, errors


def sign_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


class Tour:
    """Checks each page it is shown and keeps what failed, so one run reports every page at once."""

    def __init__(self, page: Any, width: int, folder: Path) -> None:
        self.page, self.width, self.folder = page, width, folder
        self.failures: list[str] = []
        self.seen: list[str] = []

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.seen.append(name)
        page.screenshot(path=str(self.folder / f"{self.width}-{name}.png"), full_page=True)
        wider = overflow(page)
        if wider > 0:
            self.failures.append(f"{name}: {wider} px wider than the {self.width} px screen")
        self.failures += [f"{name}: {v}" for v in axe_violations(page)]
        if self.width == PHONE:
            self.failures += [f"{name}: under 44 px: {t}" for t in small_targets(page)]


def tour(page: Any, base: str, persons: dict[str, Any], visit: Tour) -> None:
    # A citizen, not signed in.
    page.goto(f"{base}/login")
    visit.check("login")
    page.goto(f"{base}/self-check")
    visit.check("self-check")
    page.select_option("select[name=work_place]", "other_province")  # and no province chosen
    page.click("button:has-text('测算')")
    page.wait_for_selector("[aria-invalid=true]")
    visit.check("self-check-errors")
    page.fill("input[name=date]", "2024-06-30")
    page.select_option("select[name=hukou_region]", "141123")
    page.check("input[value=poverty_alleviated]")
    page.select_option("select[name=work_place]", "other_province")
    page.select_option("select[name=work_province]", "44")
    page.fill("input[name=work_start]", "2024-03-01")
    page.fill("input[name=travel_cost]", "650")
    page.click("button:has-text('测算')")
    page.wait_for_selector("#result")
    visit.check("self-check-result")
    page.goto(f"{base}/policy")
    visit.check("policy")
    page.goto(f"{base}/no-such-page")
    visit.check("error-404")

    # A county official: the registry, its checks, the accounts below it.
    sign_in(page, base, "county_xing")
    visit.check("dashboard")
    page.goto(f"{base}/people")
    visit.check("people")
    page.fill("input[name=name]", "测试")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("#results >> text=/共 \\d+ 人/")
    visit.check("people-results")
    page.goto(f"{base}/people/{persons['xing_a'].id}")
    visit.check("person")
    page.goto(f"{base}/organizations?name=")
    visit.check("organizations")
    page.click("table a[href^='/organizations/']")
    page.wait_for_url(re.compile(r".*/organizations/\d+$"))
    visit.check("organization")
    page.goto(f"{base}/ledger?year=2023")
    visit.check("ledger")
    for path in ("payments", "payments/returns", "payments/reconciliation"):
        page.goto(f"{base}/{path}")
        visit.check(path.replace("/", "-"))
    page.goto(f"{base}/checks")
    visit.check("checks")
    page.fill("#region-year", "2024")
    page.click("text=核查本地区数据")
    page.wait_for_url(re.compile(r".*/checks/[0-9a-f]{32}$"))
    visit.check("check-result")
    page.click("a[href*='/rules/'] >> nth=0")
    page.wait_for_url(re.compile(r".*/rules/\w+$"))
    visit.check("check-rule")
    page.goto(f"{base}/admin/users")
    visit.check("admin-users")
    page.goto(f"{base}/account")
    visit.check("account")
    page.goto(f"{base}/account/password")
    visit.check("password")

    # A township assistant applies for a person; the county officer's queue and the claim (ADR 0032).
    sign_in(page, base, "town_a")
    page.goto(f"{base}/claims/new")
    visit.check("claim-new")
    page.fill("input[name=q]", "测试")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("text=为此人申报")
    visit.check("claim-new-results")
    page.click("text=为此人申报 >> nth=0")
    page.wait_for_url(re.compile(r".*/claims/new\?person=\d+$"))
    visit.check("claim-new-person")
    # the tour runs at two widths on one server: each claims another of the person's two offers
    page.check(f"input[name=benefit] >> nth={0 if visit.width == PHONE else 1}")
    page.click("button:has-text('确认提交申报')")
    page.wait_for_url(re.compile(r".*/claims/\d+\?done=drafted$"))
    visit.check("claim")
    sign_in(page, base, "county_xing")
    page.goto(f"{base}/claims")
    visit.check("claims")
    page.click("table.claims a[href^='/claims/'] >> nth=0")
    page.wait_for_url(re.compile(r".*/claims/\d+$"))
    visit.check("claim-to-decide")

    # A city official sets a local standard; the province activates policy packages.
    sign_in(page, base, "city_lvliang")
    page.goto(f"{base}/admin/standards")
    visit.check("standards")
    page.click("text=查看与设置 >> nth=0")
    visit.check("standard")
    page.fill("#standard-value", "200")
    page.fill("#standard-valid_from", "2024-01-01")
    page.fill("#standard-document_number", "吕人社发〔2024〕5号")
    page.fill("#standard-document_title", "吕梁市职业介绍补贴标准")
    page.click("text=测算并预览")
    page.wait_for_selector("h1:has-text('确认新标准')")
    visit.check("standard-preview")
    sign_in(page, base, "province")
    page.goto(f"{base}/admin/policies")
    visit.check("policies-admin")

    # An official turns on the two-step sign-in, then signs in with a code (an account per width, and
    # none the tour signs in with otherwise: it runs twice on one server, and an enrolled account's
    # sign-in asks for a code).
    assistant = "town_b" if visit.width == PHONE else "county_xiaodian"
    sign_in(page, base, assistant)
    page.goto(f"{base}/account")
    codes = Codes(page.locator("input[name=secret]").input_value())
    page.fill("input[name=code]", codes.next())
    page.click("button:has-text('启用两步验证')")
    page.wait_for_selector("text=两步验证已启用")
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", assistant)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('两步验证')")
    visit.check("login-code")
    page.fill("input[name=code]", codes.next())
    page.click("button:has-text('确认')")
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("width", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_and_passes_axe(
    site: tuple[str, dict[str, Any]], chromium: Any, shots: Path, width: int
) -> None:
    base, persons = site
    context, page, errors = open_context(chromium, width)
    try:
        visit = Tour(page, width, shots)
        tour(page, base, persons, visit)
        assert len(visit.seen) == 33, visit.seen
        assert not visit.failures, "\n".join(visit.failures)
        assert not errors, f"the browser reported errors (CSP violations included): {errors}"
    finally:
        context.close()


def test_the_menu_folds_on_a_phone(site: tuple[str, dict[str, Any]], chromium: Any) -> None:
    """On a phone the header is one line (the brand and 菜单), so a page starts near the top; the menu
    opens in place with every link; on a desktop the links stay in the header."""
    base, _ = site
    for width in (PHONE, DESKTOP):
        context, page, _ = open_context(chromium, width)
        try:
            sign_in(page, base, "county_xing")
            header = page.locator("header.top").bounding_box()
            people = page.locator("header.top nav.main-nav >> text=人员").locator("visible=true")
            if width == DESKTOP:
                assert people.count() == 1 and not page.locator(".menu-phone").is_visible()
                continue
            assert header is not None and header["height"] <= 60, header
            assert people.count() == 0
            page.click(".menu-phone > summary")
            assert people.count() == 1 and page.locator("header.top >> text=退出").locator("visible=true").count() == 1
            people.click()
            page.wait_for_url(f"{base}/people")
        finally:
            context.close()


def test_reasons_are_readable_on_a_phone(site: tuple[str, dict[str, Any]], chromium: Any) -> None:
    """The 理由 of each benefit, once a 43 px column, spans the card on a phone."""
    base, persons = site
    context, page, _ = open_context(chromium, PHONE)
    try:
        sign_in(page, base, "county_xing")
        page.goto(f"{base}/people/{persons['xing_a'].id}")
        reasons = page.locator("table.evaluation td[data-label='理由']")
        assert reasons.count() > 0
        widths = [box["width"] for box in (reasons.nth(i).bounding_box() for i in range(reasons.count())) if box]
        assert min(widths) >= PHONE - 80, widths
        # every table on the page stands as labelled cards, no header row in sight
        assert page.locator("main table").count() == page.locator("main table.stacked").count()
        assert page.locator("main table thead:visible").count() == 0
    finally:
        context.close()


def test_skip_link_and_focus_ring(site: tuple[str, dict[str, Any]], chromium: Any) -> None:
    base, _ = site
    context, page, _ = open_context(chromium, DESKTOP)
    try:
        sign_in(page, base, "county_xing")
        page.goto(f"{base}/people")
        page.keyboard.press("Tab")  # the first stop on every page: straight to the content
        skip = page.locator("a.skip-link")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        assert skip.is_visible() and skip.inner_text() == "跳到正文"
        assert (skip.bounding_box() or {"width": 0})["width"] > 50
        ring = focus_ring(page)
        assert ring["style"] != "none" and ring["width"] >= 2
        assert contrast(ring["colour"], ring["background"]) >= 3, ring
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        # on the red header: the brand, the navigation, the account links
        page.focus("a.brand")
        page.keyboard.press("Tab")  # to the first navigation link, by keyboard so :focus-visible holds
        assert page.evaluate("document.activeElement.closest('header') !== null")
        on_red = focus_ring(page)
        assert on_red["background"] == "rgb(180, 35, 42)", on_red  # the header's red
        assert on_red["style"] != "none" and on_red["width"] >= 2
        assert contrast(on_red["colour"], on_red["background"]) >= 3, on_red
        # in the content, on white: a field of the search form
        page.focus("input[name=id_number]")
        page.keyboard.press("Tab")
        on_white = focus_ring(page)
        assert on_white["background"] in ("rgb(255, 255, 255)", "rgb(246, 248, 250)"), on_white
        assert contrast(on_white["colour"], on_white["background"]) >= 3, on_white
    finally:
        context.close()


def test_search_results_are_announced(site: tuple[str, dict[str, Any]], chromium: Any) -> None:
    base, _ = site
    context, page, _ = open_context(chromium, PHONE)
    try:
        sign_in(page, base, "county_xing")
        page.goto(f"{base}/people")
        live = page.locator("#search-announce")
        assert live.get_attribute("aria-live") == "polite"
        # the region stays put while htmx replaces the form and results around it
        assert page.locator("#people-search #search-announce").count() == 0
        page.fill("input[name=name]", "测试xing_a")
        with page.expect_response(lambda r: "/people?" in r.url):
            page.click("form.search button[type=submit]")
        page.wait_for_selector("#results >> text=共 1 人")
        assert live.inner_text() == "共 1 人"
        page.fill("input[name=name]", "没有这个人")
        with page.expect_response(lambda r: "/people?" in r.url):
            page.click("form.search button[type=submit]")
        page.wait_for_selector("#results >> text=共 0 人")
        assert live.inner_text() == "共 0 人"
        assert page.locator("#search-announce").count() == 1
    finally:
        context.close()


def test_field_errors_name_their_fields(site: tuple[str, dict[str, Any]], chromium: Any) -> None:
    base, _ = site
    context, page, _ = open_context(chromium, PHONE)
    try:
        page.goto(f"{base}/self-check")
        page.fill("input[name=date]", "2024-06-30")
        page.select_option("select[name=work_place]", "other_province")  # and no province chosen
        page.click("button:has-text('测算')")
        # the answer replaces the form: wait for it rather than read the form as it was before
        page.wait_for_selector("select[name=work_province][aria-invalid=true]")
        field = page.locator("select[name=work_province]")
        assert field.get_attribute("aria-invalid") == "true"
        message = page.locator(f"#{field.get_attribute('aria-describedby')}")
        assert message.is_visible() and message.inner_text().strip()
        # every invalid field on the page points at a message that exists
        invalid = page.locator("[aria-invalid=true]")
        for i in range(invalid.count()):
            described = invalid.nth(i).get_attribute("aria-describedby")
            assert described and page.locator(f"#{described}").count() == 1
    finally:
        context.close()


def test_print_hides_navigation_and_adds_a_signature_line(
    site: tuple[str, dict[str, Any]], chromium: Any, shots: Path
) -> None:
    base, persons = site
    context, page, _ = open_context(chromium, DESKTOP)
    try:
        sign_in(page, base, "county_xing")
        page.goto(f"{base}/organizations?name=")
        org_href = page.get_attribute("table a[href^='/organizations/']", "href")
        for name, path, signed in (
            ("person", f"/people/{persons['xing_a'].id}", True),
            ("organization", org_href, True),
            ("policy", "/policy", False),
        ):
            page.emulate_media(media="screen")
            page.goto(f"{base}{path}")
            assert page.locator(".sign-off").count() == (1 if signed else 0)
            if signed:
                assert page.locator(".sign-off").is_hidden()  # on screen, never
            page.emulate_media(media="print")
            assert page.locator("header.top").is_hidden(), name
            assert page.locator("a.skip-link").is_hidden(), name
            assert page.locator("main form:visible, main button:visible").count() == 0, name
            assert page.locator("h1").is_visible()
            if signed:
                assert "经办人（签字）" in page.locator(".sign-off").inner_text()
                assert page.locator(".sign-off").is_visible()
            pdf = shots / f"print-{name}.pdf"
            page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
            assert pdf.read_bytes()[:5] == b"%PDF-"
        # the self-check's answer prints without the form that asked for it
        page.emulate_media(media="screen")
        page.goto(f"{base}/self-check")
        page.fill("input[name=date]", "2024-06-30")
        page.select_option("select[name=hukou_region]", "141123")
        page.click("button:has-text('测算')")
        page.wait_for_selector("#result")
        page.emulate_media(media="print")
        assert page.locator("main form").is_hidden() and page.locator("#result").is_visible()
        assert page.locator("header.top").is_hidden()
        page.pdf(path=str(shots / "print-self-check.pdf"), format="A4", prefer_css_page_size=True)
    finally:
        context.close()


def test_axe_finds_what_it_is_there_to_find(chromium: Any) -> None:
    """The checker itself, on a page made to fail: an image without text, a field without a label."""
    context, page, _ = open_context(chromium, PHONE)
    try:
        page.set_content('<html lang="zh-CN"><title>t</title><main><img src="data:,"><input></main></html>')
        found = " ".join(axe_violations(page))
        assert "image-alt (critical)" in found and "label (critical)" in found
    finally:
        context.close()


def test_a_claims_queue_stacks_its_rows_on_a_phone(site: tuple[str, dict[str, Any]], chromium: Any) -> None:
    """The queue at 375 px: one card per claim (cells stacked, labelled), nothing wider than the screen."""
    base, persons = site
    context, page, _ = open_context(chromium, PHONE)
    try:
        sign_in(page, base, "town_a")
        page.goto(f"{base}/claims/new?person={persons['xing_a'].id}")
        page.check("input[name=benefit] >> nth=-1")
        page.click("button:has-text('确认提交申报')")
        page.wait_for_url(re.compile(r".*/claims/\d+\?done=drafted$|.*/claims/new$"))
        sign_in(page, base, "county_xing")
        page.goto(f"{base}/claims")
        cell = page.locator("table.claims td[data-label='补贴项目']").first
        assert cell.evaluate("td => getComputedStyle(td).display") == "block"
        assert "补贴项目：" in cell.evaluate("td => getComputedStyle(td, '::before').content + td.innerText")
        box = cell.bounding_box()
        assert box is not None and box["width"] >= PHONE - 80, box
        assert overflow(page) == 0
    finally:
        context.close()
