"""The policy page (issue 11): a table of contents, each clause once with its provisions, local standards
with who sets them and where they are set, and ``?date=`` for what was in force on a day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from page_words import visible_text
from web_support import Platform, build_registry, csrf_of, page_login

from bangfu.policy.policy_set import PolicySet
from bangfu.policy.source_text import clause_texts
from bangfu.web.app import create_app
from database_servers import settings_for

REFERRAL = "/admin/standards/shanxi-2021/job_referral_subsidy.per_person_fen"


def _rows(page: str) -> list[str]:
    """The standards tables' rows, as text."""
    return [visible_text(row) for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL) if 'data-label="项目"' in row]


def test_each_clause_is_printed_once_with_its_provisions(platform: Platform) -> None:
    page = platform.client.get("/policy?date=2024-06-30").text
    policy = PolicySet.bundled().document("shanxi-2021")
    texts = clause_texts(policy)
    for citation in {b.clause for b in policy.benefits.values()}:
        assert page.count(texts[citation][:40]) == 1, citation
    # （四）'s five provisions follow its text, before the next clause
    section = page.split(texts["（四）"][:40], 1)[1].split("（五）促进稳定就业", 1)[0]
    for benefit in ("跨省务工一次性交通补贴", "职业介绍补贴（有组织劳务输出脱贫人口）", "就业帮扶基地一次性奖励"):
        assert benefit in section, benefit
    assert "规则表达式" not in page  # the rules as code stay in the API


def test_the_table_of_contents_leads_to_every_clause(platform: Platform) -> None:
    page = platform.client.get("/policy").text
    contents = page.split('aria-label="政策文件"', 1)[1].split("</nav>", 1)[0]
    anchors = re.findall(r'href="#([^"]+)"', contents)
    assert len(anchors) >= 3 + 7  # three documents, the 2021 text's seven clauses with provisions
    for anchor in anchors:
        assert page.count(f'id="{anchor}"') == 1, anchor
    assert "（四）推进劳务输出" in visible_text(contents) and "（十四）精准实施技能提升" in visible_text(contents)


def test_a_standard_left_to_the_city_says_so_and_is_never_called_uniform(platform: Platform) -> None:
    rows = _rows(platform.client.get("/policy?date=2024-06-30").text)
    referral = next(row for row in rows if row.startswith("职业介绍补贴标准") or "职业介绍补贴" in row.split("\n")[0])
    assert "由市级人社部门制定" in referral and "市级制定" in referral and "本平台尚无地区设定" in referral
    for row in rows:
        if "制定" in row and "文件规定" not in row:
            assert "全省统一" not in row, row
        assert "未设定（由" not in row and "city" not in row and "county" not in row
    uniform = next(row for row in rows if row.startswith("跨省务工一次性交通补贴最高标准"))
    assert "800.00 元" in uniform and "省级文件规定" in uniform and "全省统一" in uniform


def test_a_day_shows_what_was_in_force_then(platform: Platform) -> None:
    then = platform.client.get("/policy?date=2024-06-30")
    assert then.status_code == 200
    states = [visible_text(h) for h in re.findall(r'<h2 class="state[^"]*">(.*?)</h2>', then.text)]
    assert states[0] == "2024-06-30 执行中" and "2024-06-30 尚未施行" in states
    in_force = then.text.split('<h2 class="state', 2)[1]
    titles = [visible_text(h) for h in re.findall(r"<h3>(.*?)</h3>", in_force)]
    assert any("实施意见》" in t for t in titles) and not any("2026 年起" in t for t in titles)
    assert 'value="2024-06-30"' in then.text and 'href="/policy">回到今天' in then.text
    today = platform.client.get("/policy").text
    assert re.findall(r'<h2 class="state[^"]*">(.*?)</h2>', today)[0] == "今日执行中"


def test_a_bad_day_is_answered_beside_the_page(platform: Platform) -> None:
    answer = platform.client.get("/policy?date=2024-13-01")
    assert answer.status_code == 422
    assert "日期“2024-13-01”无效" in answer.text and "今日执行中" in answer.text


@pytest.fixture
def with_a_city_standard(tmp_path: Path) -> Iterator[TestClient]:
    """A registry of its own, where 吕梁市 has set its 职业介绍补贴 through the standards page."""
    url = f"sqlite:///{(tmp_path / 'standards.db').as_posix()}"
    build_registry(url)
    app = create_app(settings_for(url), checks_dir=tmp_path / "checks")
    with TestClient(app, base_url="http://testserver") as client:
        page_login(client, "city_lvliang")
        fields = {
            "value": "300",
            "valid_from": "2024-01-01",
            "document_number": "吕人社发〔2024〕7号",
            "document_title": "吕梁市职业介绍补贴标准",
        }
        token = csrf_of(client.get(REFERRAL).text)
        saved = client.post(REFERRAL, data={"csrf_token": token, **fields}, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        client.cookies.clear()
        yield client
    app.state.context.close()


def test_a_standard_set_by_a_city_is_shown_with_the_city(with_a_city_standard: TestClient) -> None:
    client = with_a_city_standard
    rows = _rows(client.get("/policy?date=2024-06-30").text)
    referral = next(row for row in rows if "职业介绍补贴" in row.split("\n")[0])
    assert "吕梁市：300.00 元（2024-01-01 起）" in referral and "本平台尚无地区设定" not in referral
    page_login(client, "county_xing")  # a county of the city: the city's value applies to it
    rows = _rows(client.get("/policy?date=2024-06-30").text)
    referral = next(row for row in rows if "职业介绍补贴" in row.split("\n")[0])
    assert "兴县适用：300.00 元" in referral
    page_login(client, "county_xiaodian")  # 太原: not set there
    rows = _rows(client.get("/policy?date=2024-06-30").text)
    referral = next(row for row in rows if "职业介绍补贴" in row.split("\n")[0])
    assert "小店区适用：尚未设定" in referral
    client.cookies.clear()
