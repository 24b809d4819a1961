"""Users see what applies now: every document in force for the place, grouped, on the pages and the API.

The app here answers with a set these tests control (``documents_support``): the province's 2021
document (ended 2025-12-31), a 兴县 programme of 2024, a province continuation from 2026 whose values
are placeholders, and a 吕梁 programme that starts next year. The registry is ``web_support``'s: its
兴县 persons work in 深圳 since 2024-03-01 and received the 2021 transport subsidy in 2023.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from documents_support import COUNTY_TITLE, PLACEHOLDER_NOTE, PLACEHOLDER_TITLE, UPCOMING_TITLE, documents_set, without
from fastapi.testclient import TestClient
from web_support import XING, Placed, api_token, build_registry, csrf_of, page_login

from bangfu.policy.policy_set import PolicySet
from bangfu.web.app import create_app
from database_servers import settings_for

TITLE_2021 = "关于切实加强就业帮扶巩固拓展脱贫攻坚成果助力乡村振兴的实施意见"
IDS = ("shanxi-2021", "xing-2024", "province-2026", "lvliang-next")
TAG = re.compile(r"<[^>]+>")
# What only code should say: a key like transport_cross_province, a status like not_in_force, a document id.
INTERNAL = re.compile(r"[A-Za-z]+_[A-Za-z_]+|\b(?:province|city|county|placeholder|granted)\b")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Placed], dict[str, Placed]]:
    url = f"sqlite:///{(tmp_path_factory.mktemp('documents') / 'bangfu.db').as_posix()}"
    persons, organizations = build_registry(url)
    return url, persons, organizations


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    return documents_set(tmp_path_factory.mktemp("policies"))


def serve(url: str, policies: PolicySet, checks: Path) -> Iterator[TestClient]:
    app = create_app(settings_for(url), policies=policies, checks_dir=checks)
    with TestClient(app, base_url="http://testserver") as client:
        yield client
    app.state.context.close()


@pytest.fixture(scope="module")
def client(
    registry: tuple[str, dict[str, Placed], dict[str, Placed]],
    policies: PolicySet,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    yield from serve(registry[0], policies, tmp_path_factory.mktemp("checks"))


@pytest.fixture(scope="module")
def ended(
    registry: tuple[str, dict[str, Placed], dict[str, Placed]],
    policies: PolicySet,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    """The same registry where nothing follows the 2021 document: nothing in force after 2025."""
    yield from serve(registry[0], without(policies, "province-2026", "lvliang-next"), tmp_path_factory.mktemp("checks"))


def words(markup: str) -> str:
    """What a reader sees: the markup without tags, entities resolved."""
    return html.unescape(TAG.sub(" ", markup))


def no_internal_words(markup: str) -> None:
    seen = words(markup)
    assert not INTERNAL.search(seen), INTERNAL.search(seen)
    for policy_id in IDS:
        assert policy_id not in seen


def evaluation_card(page: str) -> str:
    return page.split("<h2>可享受的政策</h2>", 1)[1].split("<h2>", 1)[0]


def test_the_person_page_shows_today_every_document_in_force_grouped(
    client: TestClient, registry: tuple[str, dict[str, Placed], dict[str, Placed]]
) -> None:
    person = registry[1]["xing_a"]
    page_login(client, "county_xing")
    try:
        answer = client.get(f"/people/{person.id}")
        assert answer.status_code == 200
        card = evaluation_card(answer.text)
        assert f'value="{dt.date.today().isoformat()}"' in card  # today, unless a day is chosen
        shown = words(card)
        # the continuation in force, marked as placeholder values, with its level and validity
        assert f"《{PLACEHOLDER_TITLE}》" in shown and "暂定标准" in shown and PLACEHOLDER_NOTE in shown
        assert "省级" in shown and "2026-01-01 至 长期" in shown
        # the 2021 document still decides the 2025 work, as of its last day, and says so per benefit
        assert f"《{TITLE_2021}》" in shown and "2021-07-01 至 2025-12-31" in shown
        assert "按 2025-12-31 的政策判断（当年省外务工的开始日期：2025-01-01" in shown
        # the 兴县 programme decided the 2024 work as of its last day
        assert f"《{COUNTY_TITLE}》" in shown and "县级" in shown and "山西省吕梁市兴县" in shown
        assert "按 2024-12-31 的政策判断（当年省外务工的开始日期：2024-03-01" in shown
        # an expired document lists only what it decided: its other items are counted, not rows of 不在执行期
        assert "不在执行期" not in shown and "项的事由不在其执行期内，未列出" in shown
        assert UPCOMING_TITLE not in shown  # not yet in force
        headings = [words(h) for h in re.findall(r"<h3>(.*?)</h3>", card)]
        # in force first, then the ended ones with what they still decided
        assert headings == [f"《{PLACEHOLDER_TITLE}》", f"《{TITLE_2021}》", f"《{COUNTY_TITLE}》"]
        no_internal_words(card)
    finally:
        client.cookies.clear()


def test_a_past_date_answers_with_the_documents_in_force_then(
    client: TestClient, registry: tuple[str, dict[str, Placed], dict[str, Placed]]
) -> None:
    person = registry[1]["xing_a"]
    page_login(client, "county_xing")
    try:
        card = words(evaluation_card(client.get(f"/people/{person.id}", params={"date": "2024-06-30"}).text))
        assert f"《{TITLE_2021}》" in card and f"《{COUNTY_TITLE}》" in card
        assert PLACEHOLDER_TITLE not in card and "暂定标准" not in card  # not yet in force in 2024
        assert "按 " not in card and "已结束" not in card  # both answered for the day asked
        assert "800.00 元" in card
        # 2025: the county's programme has ended but still decides its own year's work
        card = words(evaluation_card(client.get(f"/people/{person.id}", params={"date": "2025-06-30"}).text))
        assert "已结束" in card and "按 2024-12-31 的政策判断" in card
        assert "没有正在执行" not in card  # the province's 2021 document is in force
    finally:
        client.cookies.clear()


def test_the_organization_page_is_grouped_by_document(
    client: TestClient, registry: tuple[str, dict[str, Placed], dict[str, Placed]]
) -> None:
    organization = registry[2]["org_xing"]
    page_login(client, "county_xing")
    try:
        answer = client.get(f"/organizations/{organization.id}", params={"date": "2024-06-30"})
        assert answer.status_code == 200
        card = answer.text.split("<h2>可享受的政策</h2>", 1)[1].split("<h2>已享受的政策</h2>", 1)[0]
        headings = [words(h) for h in re.findall(r"<h3>(.*?)</h3>", card)]
        assert headings == [f"《{TITLE_2021}》", f"《{COUNTY_TITLE}》"]
        no_internal_words(card)
    finally:
        client.cookies.clear()


def test_a_record_page_when_nothing_is_in_force_names_the_last_document(
    ended: TestClient, registry: tuple[str, dict[str, Placed], dict[str, Placed]]
) -> None:
    person = registry[1]["xing_b"]
    page_login(ended, "county_xing")
    try:
        card = evaluation_card(ended.get(f"/people/{person.id}", params={"date": "2026-06-30"}).text)
        shown = words(card)
        assert "2026-06-30，山西省吕梁市兴县没有正在执行的就业帮扶政策" in shown
        assert f"最近适用的是《{TITLE_2021}》，已于 2025-12-31 执行期满" in shown
        assert f'href="/people/{person.id}?date=2025-12-31"' in card  # the way back to its last day
        # the 2025 work is still decided by the 2021 document; nothing else is listed
        assert "按 2025-12-31 的政策判断" in shown and "不在执行期" not in shown
    finally:
        ended.cookies.clear()


def self_check(client: TestClient, **fields: str) -> str:
    client.cookies.clear()
    token = csrf_of(client.get("/self-check").text)
    answer = client.post("/self-check", data={"csrf_token": token, "hukou_region": XING, **fields})
    assert answer.status_code == 200, answer.text
    return answer.text.split('id="result"', 1)[1]


def test_the_self_check_says_plainly_when_nothing_is_in_force(ended: TestClient) -> None:
    result = self_check(ended, date="2026-06-30", categories="poverty_alleviated")
    # first, in the resident's words (ADR 0026)
    summary = words(result.split('id="summary"', 1)[1].split("</div>", 1)[0])
    assert "2026-06-30，山西省吕梁市兴县没有正在执行的就业帮扶政策，暂时没有可以申请的补贴" in summary
    assert f"最近的政策《{TITLE_2021}》已于 2025-12-31 结束" in summary
    # the details open on the officials' sentence, with the way back to the last day
    details = words(result.split('class="answer-details"', 1)[1].split("</details>", 1)[0])
    assert f"最近适用的是《{TITLE_2021}》，已于 2025-12-31 执行期满" in details
    assert "请把测算日期改为 2025-12-31 或更早" in details
    # no table of “不在执行期” rows
    assert "<table" not in result and "不在执行期" not in words(result)
    no_internal_words(result)


def test_the_self_check_lists_what_an_ended_document_still_decides(ended: TestClient) -> None:
    result = self_check(
        ended,
        date="2026-06-30",
        categories="poverty_alleviated",
        work_place="other_province",
        work_province="44",
        work_start="2025-03-01",
        travel_cost="650",
    )
    shown = words(result)
    assert "没有正在执行的就业帮扶政策" in shown and "下列事项发生在已结束政策的执行期内" in shown
    assert "跨省务工一次性交通补贴" in shown and "650.00 元" in shown
    assert "按 2025-12-31 的政策判断（当年省外务工的开始日期：2025-03-01" in shown
    no_internal_words(result)


def test_the_self_check_defaults_to_today_and_groups_by_document(client: TestClient) -> None:
    form = client.get("/self-check").text
    assert f'name="date" value="{dt.date.today().isoformat()}"' in form
    result = self_check(client, date=dt.date.today().isoformat(), categories="poverty_alleviated")
    shown = words(result)
    assert f"《{PLACEHOLDER_TITLE}》" in shown and "暂定标准" in shown and "没有正在执行" not in shown
    assert COUNTY_TITLE not in shown  # its year's events are not the resident's: nothing it decided
    no_internal_words(result)


def test_the_policy_page_lists_in_force_then_upcoming_then_ended(client: TestClient) -> None:
    page = client.get("/policy").text
    body = page.split('aria-label="政策文件"', 1)[1]
    states = [words(h).strip() for h in re.findall(r'<h2 class="state[^"]*">(.*?)</h2>', body)]
    assert states == ["今日执行中", "即将施行", "已结束"]
    titles = [words(h) for h in re.findall(r"<h3>(.*?)</h3>", body)]
    assert titles == [f"《{PLACEHOLDER_TITLE}》", f"《{UPCOMING_TITLE}》", f"《{TITLE_2021}》", f"《{COUNTY_TITLE}》"]
    shown = words(body)
    for text in (
        "暂定标准",
        PLACEHOLDER_NOTE,
        "市级",
        "县级",
        "山西省吕梁市兴县",
        "2024-01-01 至 2024-12-31",
        "跨省务工一次性交通补贴",
    ):
        assert text in shown, text
    assert "选择执行期内的日期仍可按本文件评估" in shown  # an ended document stays reachable
    # only the folded rule expressions are code; exclusions and parameters are named in words
    no_internal_words(re.sub(r"<details>.*?</details>", "", body, flags=re.DOTALL))


def test_the_policy_page_puts_the_viewers_region_first(client: TestClient, policies: PolicySet) -> None:
    # a day when the 兴县 programme is in force: first for a 吕梁 account, "elsewhere" for a 太原 one
    from bangfu.policy.catalog import describe_set

    lvliang = [d["id"] for d in describe_set(policies, dt.date(2024, 6, 30), "1411")]
    taiyuan = [(d["id"], d["state"]) for d in describe_set(policies, dt.date(2024, 6, 30), "140105")]
    assert lvliang[:2] == ["shanxi-2021", "xing-2024"]
    assert taiyuan[:2] == [("shanxi-2021", "in_force"), ("xing-2024", "in_force_elsewhere")]
    page_login(client, "county_xiaodian")
    try:
        body = client.get("/policy").text.split('aria-label="政策文件"', 1)[1]
        assert [words(h).strip() for h in re.findall(r'<h2 class="state[^"]*">(.*?)</h2>', body)] == [
            "今日执行中",
            "即将施行",
            "已结束",
        ]
    finally:
        client.cookies.clear()


def test_the_api_evaluates_today_by_default_and_names_every_document(
    client: TestClient, registry: tuple[str, dict[str, Placed], dict[str, Placed]]
) -> None:
    headers = api_token(client, "county_xing")
    case = {"region": XING, "person": {"categories": ["poverty_alleviated"], "hukou_region": XING}}
    answer = client.post("/api/v1/policy/evaluate", json=case, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["date"] == dt.date.today().isoformat() and body["in_force"] is True
    assert [d["id"] for d in body["documents"]] == ["province-2026"]
    assert body["documents"][0]["placeholder"] == PLACEHOLDER_NOTE
    assert {b["document"] for b in body["benefits"]} == {"province-2026"}
    assert body["policy"]["id"] == "province-2026"  # the one-document field names the first listed
    person = registry[1]["xing_a"]
    today = client.get(f"/api/v1/people/{person.id}/entitlements", headers=headers).json()
    assert today["date"] == dt.date.today().isoformat()
    assert [d["id"] for d in today["documents"]] == ["shanxi-2021", "province-2026", "xing-2024"]
    assert {d["id"]: d["decided_on"] for d in today["documents"]}["xing-2024"] == "2024-12-31"
    past = client.get(f"/api/v1/people/{person.id}/entitlements?date=2024-06-30", headers=headers).json()
    assert [d["id"] for d in past["documents"]] == ["shanxi-2021", "xing-2024"]


def test_the_api_says_when_nothing_is_in_force(ended: TestClient) -> None:
    case = {"date": "2026-06-30", "region": XING, "person": {"categories": ["poverty_alleviated"]}}
    body = ended.post("/api/v1/policy/evaluate", json=case, headers=api_token(ended, "province")).json()
    assert body["in_force"] is False
    assert body["last_in_force"] == {"id": "shanxi-2021", "title": TITLE_2021, "valid_to": "2025-12-31"}


def test_the_api_description_lists_every_document(client: TestClient) -> None:
    headers = api_token(client, "city_taiyuan")
    body = client.get("/api/v1/policy", headers=headers).json()
    # the contract of one document stays at the top (the default one) ...
    assert body["id"] == "shanxi-2021" and body["valid_to"] == "2025-12-31" and body["benefits"]
    # ... and every document follows, in force for the account's region first
    assert [(d["id"], d["state"]) for d in body["documents"]] == [
        ("province-2026", "in_force"),
        ("lvliang-next", "upcoming"),
        ("shanxi-2021", "expired"),
        ("xing-2024", "expired"),
    ]
    placeholder = body["documents"][0]
    assert placeholder["placeholder"] == PLACEHOLDER_NOTE and placeholder["level_label"] == "省级"
    assert placeholder["in_force"] is True and placeholder["benefits"]
    assert all(p["placeholder"] for p in placeholder["parameters"])  # every value marked 暂定
    assert not any(p["placeholder"] for p in body["parameters"])
    then = client.get("/api/v1/policy", params={"date": "2024-06-30"}, headers=headers).json()
    assert then["date"] == "2024-06-30"
    assert [(d["id"], d["state"]) for d in then["documents"]][:2] == [
        ("shanxi-2021", "in_force"),
        ("xing-2024", "in_force_elsewhere"),
    ]
