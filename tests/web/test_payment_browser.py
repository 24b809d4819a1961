"""The payment pages in Debian's Chromium on a phone (375 px): a county official builds a batch, a second
approves it and downloads the bank file, uploads the bank's return, reconciles and re-issues a failed
line; every page fits the screen, passes axe-core (serious and critical) and has thumb-sized controls."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from page_checks import PHONE, axe_violations, overflow, screenshot_dir, small_targets
from payment_support import ACCOUNTS, CHECKER, payment_registry, references, return_csv
from test_browser import CHROMIUM, CHROMIUM_ARGS, free_port
from web_support import PASSWORD

from bangfu.web.app import create_app
from database_servers import settings_for

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="没有系统 Chromium（Debian 软件包 chromium）：浏览器测试跳过；.ci/run 会安装它"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{(tmp_path_factory.mktemp('pay-browser') / 'bangfu.db').as_posix()}"
    payment_registry(url)
    app = create_app(settings_for(url), checks_dir=tmp_path_factory.mktemp("checks"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{server.config.port}", url
    server.should_exit = True
    thread.join(timeout=10)
    app.state.context.close()


class Phone:
    """Checks each page it is shown and keeps what failed, so one run reports every page."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page, self.folder = page, folder
        self.failures: list[str] = []

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        page.screenshot(path=str(self.folder / f"{PHONE}-payments-{name}.png"), full_page=True)
        if (wider := overflow(page)) > 0:
            self.failures.append(f"{name}: {wider} px wider than the phone")
        self.failures += [f"{name}: {v}" for v in axe_violations(page)]
        self.failures += [f"{name}: under 44 px: {t}" for t in small_targets(page)]


def sign_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_batch_worked_on_a_phone(site: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> None:
    base, url = site
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": PHONE, "height": 800}, locale="zh-CN", accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        phone = Phone(page, screenshot_dir(tmp_path_factory.mktemp("screenshots")))
        try:
            sign_in(page, base, "county_xing")
            page.click(".menu-phone > summary")  # on a phone the menu folds under 菜单
            page.click(".menu-phone nav.main-nav >> text=支付批次")
            page.wait_for_url(f"{base}/payments")
            phone.check("list-empty")
            page.click("summary:has-text('生成支付批次')")
            page.select_option("#build-county", "141123")
            page.fill("#build-bank", "兴县农商银行")
            page.click("button:has-text('生成批次')")
            page.wait_for_url(re.compile(r".*/payments/\d+\?done=built$"))
            batch = int(re.search(r"/payments/(\d+)", page.url).group(1))  # type: ignore[union-attr]
            assert page.locator("text=已生成支付批次").is_visible()
            assert ACCOUNTS["xing_a"] not in page.content()
            phone.check("batch-built")

            sign_in(page, base, CHECKER)
            page.goto(f"{base}/payments/{batch}")
            page.click("button:has-text('核对无误，批准本批次')")
            page.wait_for_url(re.compile(r".*\?done=approved$"))
            phone.check("batch-approved")
            with page.expect_download() as download:
                page.click("a:has-text('表格文件')")
            saved = download.value.path()
            assert saved is not None and Path(saved).read_bytes().startswith(b"PK")

            lines = references(url, batch)
            answer = tmp_path_factory.mktemp("return") / "回单.csv"
            answer.write_bytes(return_csv([(lines[0][0], "成功", 80_000), (lines[1][0], "失败", 80_000)]))
            page.goto(f"{base}/payments/returns")
            phone.check("return-form")
            page.set_input_files("#return-file", str(answer))
            page.click("button:has-text('导入回单')")
            page.wait_for_selector("#result")
            phone.check("return-result")
            wrong = answer.with_name("错表头.csv")
            wrong.write_bytes(return_csv([], header="流水号,结果"))
            page.set_input_files("#return-file", str(wrong))
            page.click("button:has-text('导入回单')")
            page.wait_for_selector("#return-file-error")
            assert page.get_attribute("#return-file", "aria-invalid") == "true"
            phone.check("return-error")

            page.goto(f"{base}/payments/{batch}")
            page.click("button:has-text('按回单对账')")
            page.wait_for_url(re.compile(r".*\?done=reconciled$"))
            phone.check("batch-reconciled")
            page.click("summary:has-text('改为正确账户重新支付')")
            phone.check("reissue-form")
            form = page.locator("form[action$='/reissue']")
            form.locator("input[name=account]").fill("6228000011112222")
            form.locator("input[name=reason]").fill("原账户已销户")
            form.locator("button").click()
            page.wait_for_url(re.compile(r".*\?done=reissued$"))
            assert page.locator("text=已改为新账户").is_visible()
            page.goto(f"{base}/payments/reconciliation")
            phone.check("reconciliation")
            page.goto(f"{base}/payments")
            phone.check("list")
        finally:
            context.close()
            browser.close()
    assert not errors, errors
    assert not phone.failures, "\n".join(phone.failures)
