"""``bangfu people record-death`` and the city review, 公示 and objection commands on a SQLite file:
each refusal answered in Chinese with exit code 2 and nothing changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from claim_gate_support import add_organization, claim, org_claim
from claims_support import CHECKER, add_person, approved_claim, invoke, said
from sqlalchemy import Engine, func, insert, select

from bangfu.claims import decisions
from bangfu.claims.gates import OBJECTIONS
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry, Person, User
from database_servers import migrate


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(User),
            [
                {"username": name, "display_name": name, "role": role, "region_code": region, "password_hash": "-"}
                for name, role, region in (
                    ("xing_checker", "county", "141123"),
                    ("lin_checker", "county", "141124"),
                    ("lvliang_city", "city", "1411"),
                )
            ],
        )
    return url, engine


def audits(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_recording_a_death_from_the_command_line(database: tuple[str, Engine]) -> None:
    url, engine = database
    person = add_person(engine)
    with engine.connect() as connection:
        number = str(connection.scalar(select(Person.id_number).where(Person.id == person)))
    before = audits(engine)
    for args, message in (
        (("--date", "2024-13-01"), "--date 日期 '2024-13-01' 格式不正确"),
        (("--date", "2024-02-01", "--as", "lin_checker"), "或不在本账户管辖地区"),
    ):
        refused = invoke("people", "record-death", number, *args, "--source", "民政部门通报", "--database", url)
        assert refused.exit_code == 2 and said(refused, message), refused.output
    unknown = invoke(
        "people", "record-death", "11010519491231002X", "--date", "2024-02-01", "--source", "民政", "--database", url
    )
    assert unknown.exit_code == 2 and said(unknown, "登记库中没有身份证号为 1101************2X 的人员")
    assert audits(engine) == before
    done = invoke(
        "people", "record-death", number, "--date", "2024-02-01", "--source", "民政部门通报",
        "--as", "xing_checker", "--database", url,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert said(done, "于 2024-02-01 死亡（来源：民政部门通报）") and number not in done.output
    with engine.connect() as connection:
        assert connection.scalar(select(Person.died_on).where(Person.id == person)) == dt.date(2024, 2, 1)
    assert audits(engine) == before + 1


def test_city_review_from_the_command_line(database: tuple[str, Engine]) -> None:
    url, engine = database
    large = org_claim(
        engine,
        add_organization(engine),
        repeat_per="organization",
        units=None,
        fund="employment",
        amount_fen=15_000_000,
    )
    with engine.begin() as connection:
        decisions.approve(connection, large, CHECKER)
    before = audits(engine)
    county = invoke("claims", "review", str(large), "--as", "xing_checker", "--database", url)
    assert county.exit_code == 2 and said(county, f"申报 {large}（兴县）须由其所在市的市级账户复核")
    unknown = invoke("claims", "review", "999", "--as", "lvliang_city", "--database", url)
    assert unknown.exit_code == 2 and said(unknown, "没有编号为 999 的申报")
    bare = invoke("claims", "review", str(large), "--reject", "--as", "lvliang_city", "--database", url)
    assert bare.exit_code == 2 and said(bare, "复核不同意时必须用 --reason 写明理由")
    assert audits(engine) == before and claim(engine, large).city_review == "pending"
    passed = invoke("claims", "review", str(large), "--as", "lvliang_city", "--database", url)
    assert passed.exit_code == 0 and said(passed, f"申报 {large} 市级复核通过（lvliang_city）")
    assert claim(engine, large).city_review == "passed"


def test_posting_and_objections_from_the_command_line(
    database: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = database
    monkeypatch.setenv("BANGFU_CLAIM_POSTING_DAYS", "3")
    rule = invoke("claims", "posting-rule", "141123", "--as", "xing_checker", "--database", url)
    assert rule.exit_code == 0 and said(rule, "此后批准的申报须公示 3 天"), rule.output
    other = invoke("claims", "posting-rule", "141123", "--days", "5", "--as", "lin_checker", "--database", url)
    assert other.exit_code == 2 and said(other, "账户 lin_checker 的管辖地区不含兴县（141123）")

    claim_id = approved_claim(engine, add_person(engine))
    today = dt.date.today()
    posted = invoke("claims", "post", str(claim_id), "--as", "xing_checker", "--database", url)
    assert posted.exit_code == 0 and said(
        posted, f"申报 {claim_id} 公示 {today.isoformat()} 至 {(today + dt.timedelta(days=2)).isoformat()}"
    )
    before = audits(engine)
    for args, message in (
        (("--on", (today + dt.timedelta(days=3)).isoformat()), "晚于今天"),
        (("--on", (today - dt.timedelta(days=1)).isoformat()), "不在公示期内"),
        (("--on", "昨天"), "--on 日期 '昨天' 格式不正确"),
        (("--as", "lin_checker"), "账户 lin_checker 的管辖地区不含兴县"),
    ):
        refused = invoke(
            "claims", "objection", str(claim_id), "--by", "村民", "--content", "未外出务工", *args, "--database", url
        )
        assert refused.exit_code == 2 and said(refused, message), (args, refused.output)
    assert audits(engine) == before
    raised = invoke(
        "claims", "objection", str(claim_id), "--by", "同村村民", "--content", "3 月未外出务工",
        "--as", "xing_checker", "--database", url,
    )  # fmt: skip
    assert raised.exit_code == 0 and said(raised, f"已登记申报 {claim_id} 的公示异议")
    with engine.connect() as connection:
        objection = int(connection.scalar(select(OBJECTIONS.c.id).where(OBJECTIONS.c.claim_id == claim_id)) or 0)
    build = invoke(
        "payments", "build", "--fund", "revitalization", "--county", "141123", "--payer-bank", "兴县农商银行",
        "--as", "xing_checker", "--database", url,
    )  # fmt: skip
    assert build.exit_code == 0 and said(build, "没有可生成批次的已批准申报")
    assert said(build, f"暂不列入批次的申报 1 笔：{claim_id}")
    wrong = invoke(
        "claims", "resolve-objection", str(objection), "--decision", "maybe", "--reason", "核实",
        "--as", "xing_checker", "--database", url,
    )  # fmt: skip
    assert wrong.exit_code == 2 and said(wrong, "处理结果应为以下之一")
    resolved = invoke(
        "claims", "resolve-objection", str(objection), "--decision", "reject", "--reason", "入户核实属实",
        "--as", "xing_checker", "--database", url,
    )  # fmt: skip
    assert resolved.exit_code == 0 and said(resolved, f"公示异议 {objection}：异议成立，驳回申报（入户核实属实）")
    assert claim(engine, claim_id).status == "rejected"
