"""The self-check answers a resident first in plain words (ADR 0026): what may be applied for and the most it
pays in 元, what the others would need, where to apply and what to bring; the officials' table after, closed.

The app here serves the bundled documents with a deployment's ``where-to-apply.yaml`` that sets 兴县's own
office; 临县 keeps the general advice. ``ended`` answers with the 2021 document alone (nothing after 2025).
"""

from __future__ import annotations

import html
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from documents_support import documents_set, without
from fastapi.testclient import TestClient
from web_support import LIN, XING, build_registry, csrf_of

from bangfu.policy.loader import PolicyError, load_policy, policies_root
from bangfu.policy.model import FUNDS, Condition
from bangfu.policy.policy_set import PolicySet
from bangfu.web.app import create_app
from bangfu.web.plain_words import needed, yuan_text
from bangfu.web.where_to_apply import FILE_NAME, WhereToApplyError, bundled_file, offices, parse
from database_servers import settings_for

TAG = re.compile(r"<[^>]+>")
# What a resident should not have to read in the summary: a clause number, a fund, 分, the officials' "取低者".
CLAUSE_NUMBER = re.compile(r"（[一二三四五六七八九十]+）")
XING_OFFICE = {
    "office": "兴县人力资源和社会保障局就业服务中心（测试）",
    "address": "兴县蔚汾镇测试路 1 号",
    "phone": "0358-0000000",
    "hours": "工作日 8:00—12:00，14:30—17:30",
    "documents": {"transport_cross_province": ["务工单位盖章的务工证明（测试）"]},
}
ACROSS = {
    "hukou_region": XING,
    "categories": "poverty_alleviated",
    "labor_capacity": "ordinary",
    "work_place": "other_province",
    "work_province": "44",
    "work_start": "2024-03-01",
    "travel_cost": "650",
}


def words(markup: str) -> str:
    return " ".join(html.unescape(TAG.sub(" ", markup)).split())


def serve(tmp: Path, policies: PolicySet | None, policy_dir: Path | None) -> Iterator[TestClient]:
    url = f"sqlite:///{(tmp / 'bangfu.db').as_posix()}"
    build_registry(url)
    app = create_app(settings_for(url, policy_dir=policy_dir), policies=policies, checks_dir=tmp / "checks")
    with TestClient(app, base_url="http://testserver") as client:
        yield client
    app.state.context.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("deployment")
    local = yaml.safe_load(bundled_file().read_text(encoding="utf-8"))
    local["counties"] = {XING: XING_OFFICE}
    (folder / FILE_NAME).write_text(yaml.safe_dump(local, allow_unicode=True), encoding="utf-8")
    yield from serve(tmp_path_factory.mktemp("plain"), PolicySet.bundled(), folder)


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    policies = without(documents_set(tmp_path_factory.mktemp("policies")), "province-2026", "lvliang-next")
    yield from serve(tmp_path_factory.mktemp("ended"), policies, None)


def answer(client: TestClient, **fields: str) -> str:
    """The page after submitting the form, from the answer on (the form follows it)."""
    client.cookies.clear()
    token = csrf_of(client.get("/self-check").text)
    page = client.post("/self-check", data={"csrf_token": token, **fields})
    assert page.status_code == 200, page.text
    return page.text.split('id="result"', 1)[1]


def summary_of(result: str) -> str:
    return words(result.split('id="summary"', 1)[1].split("</div>", 1)[0])


def where_of(result: str) -> str:
    return words(result.split('aria-labelledby="where-heading"', 1)[1].split("</section>", 1)[0])


def details_of(result: str) -> str:
    return words(result.split('class="answer-details"', 1)[1].split('href="#check-form"', 1)[0])


def assert_plain(summary: str) -> None:
    """The reading-level check: no clause number, no fund name, no 分, no 取低者."""
    assert not CLAUSE_NUMBER.search(summary), CLAUSE_NUMBER.search(summary)
    for fund in FUNDS.values():
        assert fund not in summary
    assert "分" not in summary and "取低者" not in summary and "不符合" not in summary


def test_the_answer_comes_first_in_a_plain_line_per_benefit(client: TestClient) -> None:
    result = answer(client, date="2024-06-30", **ACROSS)
    summary = summary_of(result)
    assert "您可能可以申请： 跨省务工一次性交通补贴 ，最多 650 元" in summary
    assert "您可能可以申请： 有组织劳务输出服务（“点对点”输送等）" in summary
    assert "650.00 元" not in summary  # the officials' format is in the details
    assert_plain(summary)
    # the order of the page: the answer, where to apply, the details (closed), then the form
    order = ['id="summary"', "where-heading", "answer-details", 'id="check-form"']
    assert [result.index(mark) for mark in order] == sorted(result.index(mark) for mark in order)
    assert '<details class="answer-details">' in result  # closed: no open attribute
    details = details_of(result)
    assert "650.00 元" in details and "（四）" in details and "衔接推进乡村振兴补助资金" in details


def test_amounts_are_whole_yuan_with_thousands_separators() -> None:
    assert [yuan_text(f) for f in (80000, 65050, 150000, 123456789)] == [
        "800 元",
        "650.50 元",
        "1,500 元",
        "1,234,567.89 元",
    ]


def test_a_county_programme_shows_its_amount_in_yuan(client: TestClient) -> None:
    fields = {**ACROSS, "hukou_region": "140821", "travel_cost": ""}
    summary = summary_of(answer(client, date="2024-06-30", **fields))
    assert "您可能可以申请： 临猗县外出务工交通补贴 ，最多 1,500 元" in summary
    # the province's subsidy needs the fare to be worked out: the form's question is named, in 元 words
    assert "跨省务工一次性交通补贴 ，金额要看外出务工交通费" in summary
    assert_plain(summary)


def test_an_empty_form_says_plainly_nothing_yet_and_what_would_change_it(client: TestClient) -> None:
    result = answer(client, date="2024-06-30")
    summary = summary_of(result)
    assert "根据您填写的情况，暂时没有可以申请的补贴" in summary
    assert "跨省务工一次性交通补贴 ：需要是脱贫人口；需要当年在山西省外务工" in summary
    assert "就业困难人员认定（纳入就业援助对象） ：需要是脱贫人口或农村低收入人口（含防返贫监测对象）" in summary
    assert_plain(summary)
    # nowhere on the page the accusation that reads as its opposite, the details included
    assert "不符合：" not in words(result) and "需要是脱贫人口" in details_of(result)


def test_a_condition_is_turned_into_what_is_needed() -> None:
    def condition(label: str, citizen: str = "") -> Condition:
        return Condition("c", label, None, "True", citizen)  # type: ignore[arg-type]

    assert needed(condition("属于脱贫人口")) == "需要是脱贫人口"
    # an aside for officials goes, one that widens the group stays
    assert needed(condition("户籍在山西省（本省脱贫人口；户籍在省外者不享受本省交通补贴）")) == "需要户籍在山西省"
    assert needed(condition("属于脱贫人口或农村低收入人口（含防返贫监测对象）")) == (
        "需要是脱贫人口或农村低收入人口（含防返贫监测对象）"
    )
    assert needed(condition("评估日无在岗就业", "需要测算日没有在岗工作")) == "需要测算日没有在岗工作"


def test_a_condition_wording_for_residents_is_read_and_checked(tmp_path: Path) -> None:
    folder = tmp_path / "shanxi-2021"
    shutil.copytree(policies_root() / "shanxi-2021", folder, ignore=shutil.ignore_patterns("tests"))
    rule = folder / "benefits" / "14-skills.yaml"
    text = rule.read_text(encoding="utf-8")
    assert "citizen: 需要参加职业培训（至少 1 天）" in text
    found = load_policy(folder).benefits["training_living_allowance"].conditions
    assert [c.citizen for c in found if c.id == "trained_days"] == ["需要参加职业培训（至少 1 天）"]
    rule.write_text(text.replace("citizen: 需要参加职业培训", "citizen: 参加职业培训"), encoding="utf-8")
    with pytest.raises(PolicyError, match="citizen: 应以“需要”开头"):
        load_policy(folder)


def test_a_county_with_its_own_office_shows_it(client: TestClient) -> None:
    where = where_of(answer(client, date="2024-06-30", **ACROSS))
    for text in (XING_OFFICE["office"], XING_OFFICE["address"], XING_OFFICE["phone"], XING_OFFICE["hours"]):
        assert str(text) in where
    assert "还没有设置" not in where
    # what to bring: every benefit's common documents, and the county's own for this one
    assert "本人居民身份证" in where and "务工单位盖章的务工证明（测试）" in where


def test_a_county_without_its_own_office_gets_the_general_advice_marked(client: TestClient) -> None:
    where = where_of(answer(client, date="2024-06-30", **{**ACROSS, "hukou_region": LIN}))
    assert "临县还没有设置自己的办理地点，下面是通用的办理指引" in where
    assert "请到户籍所在地乡镇（街道）便民服务中心或县人力资源和社会保障局咨询" in where
    assert str(XING_OFFICE["office"]) not in where
    assert "在省外务工的证明" in where  # the bundled documents for the cross-province subsidy


def test_after_2025_the_continuation_answers_not_just_not_in_force(client: TestClient) -> None:
    fields = {**ACROSS, "work_start": "2026-03-01", "travel_cost": "1200"}
    result = answer(client, date="2026-06-30", **fields)
    summary = summary_of(result)
    assert "您可能可以申请： 跨省务工一次性交通补贴 ，最多 800 元 暂定标准" in summary
    assert "以正式文件为准" in summary
    assert "不在执行期" not in words(result)
    assert_plain(summary)


def test_when_nothing_is_in_force_the_answer_says_whom_to_ask(ended: TestClient) -> None:
    result = answer(ended, date="2026-06-30", hukou_region=XING, categories="poverty_alleviated")
    summary = summary_of(result)
    assert "2026-06-30，山西省吕梁市兴县没有正在执行的就业帮扶政策，暂时没有可以申请的补贴" in summary
    assert "现在有哪些帮扶，请按下面的地点咨询" in summary
    assert_plain(summary)
    where = where_of(result)
    assert "到哪里咨询" in where and "县人力资源和社会保障局" in where and "去咨询时可以带上" in where


def test_questions_are_asked_in_the_residents_words(client: TestClient) -> None:
    form = words(client.get("/self-check").text.split('id="check-form"', 1)[1])
    for question in ("您的户口在哪个县（市、区）", "外出务工路上花的交通费（元）", "您今年参加职业培训多少天"):
        assert question in form
    assert "该人员" not in form and "（分）" not in form
    client.cookies.clear()
    token = csrf_of(client.get("/self-check").text)
    fields = {**ACROSS, "travel_cost": "6.505"}
    page = client.post("/self-check", data={"csrf_token": token, "date": "2024-06-30", **fields})
    assert page.status_code == 422
    assert "交通费应为元，最多两位小数，如 650 或 650.50" in page.text


def test_the_bundled_where_to_apply_names_only_benefits_that_exist() -> None:
    bundled = offices(None)
    ids = {b for d in PolicySet.bundled().documents for b in d.benefits}
    assert set(bundled.default.documents) - {"all"} <= ids
    assert bundled.default.office and not bundled.counties


def test_a_where_to_apply_file_is_checked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(WhereToApplyError, match="不是山西省的县级行政区划代码"):
        parse({"default": {"office": "某处"}, "counties": {"110101": {"office": "北京"}}}, FILE_NAME)
    with pytest.raises(WhereToApplyError, match="可写的项目为"):
        parse({"default": {"office": "某处", "fax": "1"}}, FILE_NAME)
    # a county inherits what it leaves out, its documents merged over the default's
    read = parse(
        {"default": {"office": "某处", "documents": {"all": ["身份证"]}}, "counties": {XING: {"phone": "123"}}},
        FILE_NAME,
    )
    assert read.counties[XING].office == "某处" and read.counties[XING].documents["all"] == ("身份证",)
    # a deployment's file that does not read leaves the public page on the bundled advice, logged
    (tmp_path / FILE_NAME).write_text("default: [", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert offices(tmp_path) == offices(None)
    assert "无法读取" in caplog.text
