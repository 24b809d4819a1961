"""The city's review and the 公示 on SQLite and PostgreSQL (ADR 0034): what each gate holds back from
a payment batch, who may open it, and that a refused step changes nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from claim_gate_support import add_organization, claim, org_claim
from claims_support import CHECKER, add_person, approved_claim
from sqlalchemy import Engine, func, select, text

from bangfu.claims import decisions, gates, payments, postings
from bangfu.claims.decisions import Actor
from bangfu.claims.records import EVENTS, KEYS, ClaimError
from bangfu.claims.reviews import review
from bangfu.store.tables import AuditEntry

XING = Actor("xing_clerk", may_override=True, role="county", region="141123")
LIN = Actor("lin_clerk", may_override=True, role="county", region="141124")
LVLIANG = Actor("lvliang_city", may_override=True, role="city", region="1411")
TAIYUAN = Actor("taiyuan_city", may_override=True, role="city", region="1401")
ACCOUNT = {"payee_name": "某公司", "payee_account": "6228480000000003333", "payee_bank": "兴县农商银行"}


def build(engine: Engine, fund: str, county: str, today: dt.date) -> payments.Built:
    with engine.begin() as connection:
        return payments.build_batch(
            connection, fund=fund, region=county, payer_bank="兴县农商银行", actor=XING, today=today
        )


def large_reward(engine: Engine, amount_fen: int) -> int:
    """A checked organization reward of ``amount_fen``, approved by the county."""
    claim_id = org_claim(
        engine,
        add_organization(engine),
        benefit_id="incubator_reward",
        fund="employment",
        repeat_per="organization",
        units=None,
        amount_fen=amount_fen,
        **ACCOUNT,
    )
    with engine.begin() as connection:
        decisions.approve(connection, claim_id, CHECKER)
    return claim_id


def snapshot(engine: Engine, claim_id: int) -> tuple[Any, int, int]:
    with engine.connect() as connection:
        events = connection.scalar(select(func.count()).where(EVENTS.c.claim_id == claim_id))
        audits = connection.scalar(select(func.count()).select_from(AuditEntry))
    return tuple(claim(engine, claim_id)), int(events or 0), int(audits or 0)


def test_a_large_organization_reward_waits_for_its_citys_review(module_database: Engine) -> None:
    today = dt.date(2024, 7, 10)
    large = large_reward(module_database, gates.CITY_REVIEW_THRESHOLD_FEN)
    below = large_reward(module_database, gates.CITY_REVIEW_THRESHOLD_FEN - 1)
    assert (claim(module_database, large).city_review, claim(module_database, below).city_review) == ("pending", None)
    built = build(module_database, "employment", "141123", today)
    assert built.batch_id is not None and claim(module_database, below).status == "batched"
    assert large in built.held and claim(module_database, large).status == "approved"

    before = snapshot(module_database, large)
    for actor, message in (
        (XING, "须由其所在市的市级账户复核"),
        (TAIYUAN, "不是该市的市级账户"),
        (CHECKER, "不是该市的市级账户"),
    ):
        with pytest.raises(ClaimError, match=message), module_database.begin() as connection:
            review(connection, large, actor)
    with pytest.raises(ClaimError, match="没有编号为 999999 的申报"), module_database.begin() as connection:
        review(connection, 999_999, LVLIANG)
    with pytest.raises(ClaimError, match="不在待市级复核状态"), module_database.begin() as connection:
        review(connection, below, LVLIANG)
    assert snapshot(module_database, large) == before

    with module_database.begin() as connection:
        review(connection, large, LVLIANG)
    reviewed = claim(module_database, large)
    assert (reviewed.city_review, reviewed.city_reviewer, reviewed.status) == ("passed", "lvliang_city", "approved")
    with module_database.connect() as connection:
        last = connection.execute(
            select(EVENTS.c.actor, EVENTS.c.reason).where(EVENTS.c.claim_id == large).order_by(EVENTS.c.id.desc())
        ).first()
        audited = connection.scalar(
            select(func.count()).where(AuditEntry.action == "claim.city_review", AuditEntry.target_id == str(large))
        )
    assert last is not None and last.actor == "lvliang_city" and last.reason.startswith("市级复核通过")
    assert audited == 1
    with pytest.raises(ClaimError, match="已由 lvliang_city 完成市级复核"), module_database.begin() as connection:
        review(connection, large, LVLIANG)
    build(module_database, "employment", "141123", today)
    assert claim(module_database, large).status == "batched"


def test_the_city_may_reject_a_large_reward_which_frees_its_key(module_database: Engine) -> None:
    large = large_reward(module_database, 20_000_000)
    with pytest.raises(ClaimError, match="必须写明原因"), module_database.begin() as connection:
        review(connection, large, LVLIANG, reject_reason="  ")
    with module_database.begin() as connection:
        review(connection, large, LVLIANG, reject_reason="入驻实体数与工商登记不符")
    with module_database.connect() as connection:
        live = connection.scalar(select(KEYS.c.live).where(KEYS.c.claim_id == large))
        reason = connection.scalar(
            select(EVENTS.c.reason).where(EVENTS.c.claim_id == large).order_by(EVENTS.c.id.desc())
        )
    assert claim(module_database, large).status == "rejected" and not live
    assert reason == "市级复核不同意：入驻实体数与工商登记不符"


def posted_claim(engine: Engine, start: dt.date) -> int:
    claim_id = approved_claim(engine, add_person(engine, county="141124"))
    with engine.begin() as connection:
        until = postings.post(connection, claim_id, LIN, start)
    assert until == start + dt.timedelta(days=4)
    return claim_id


def test_a_posted_claim_is_batched_only_after_its_period_with_no_open_objection(module_database: Engine) -> None:
    with module_database.begin() as connection:
        postings.set_county_rule(connection, "141124", 5, LIN)
    try:
        unposted = approved_claim(module_database, add_person(module_database, county="141124"))
        assert claim(module_database, unposted).posting_days == 5
        quiet = posted_claim(module_database, dt.date(2024, 7, 1))
        objected = posted_claim(module_database, dt.date(2024, 7, 1))
        assert (claim(module_database, quiet).posted_from, claim(module_database, quiet).posted_until) == (
            dt.date(2024, 7, 1),
            dt.date(2024, 7, 5),
        )
        with module_database.begin() as connection:
            objection = postings.record_objection(
                connection,
                objected,
                LIN,
                raised_by="同村村民",
                content="此人 3 月未外出务工",
                raised_on=dt.date(2024, 7, 5),
            )
        # On the period's last day nothing is batched; the day after, only the quiet claim.
        held = build(module_database, "revitalization", "141124", dt.date(2024, 7, 5))
        assert {unposted, quiet, objected} <= set(held.held)
        build(module_database, "revitalization", "141124", dt.date(2024, 7, 6))
        assert [claim(module_database, c).status for c in (unposted, quiet, objected)] == [
            "approved",
            "batched",
            "approved",
        ]
        with module_database.connect() as connection:
            why = gates.held_reason(connection, claim(module_database, objected), dt.date(2024, 7, 6))
        assert why == f"公示异议 {objection} 尚未处理"

        with module_database.begin() as connection:
            postings.resolve_objection(connection, objection, LIN, "dismiss", "经入户核实，3 月已在深圳务工")
        build(module_database, "revitalization", "141124", dt.date(2024, 7, 6))
        assert claim(module_database, objected).status == "batched"
        with module_database.connect() as connection:
            resolved = connection.execute(select(gates.OBJECTIONS).where(gates.OBJECTIONS.c.id == objection)).one()
        assert (resolved.status, resolved.resolved_by) == ("dismissed", "lin_clerk")
        assert resolved.resolution == "异议不成立，申报继续：经入户核实，3 月已在深圳务工"
    finally:
        with module_database.begin() as connection:
            postings.set_county_rule(connection, "141124", None, LIN)


def test_an_upheld_objection_returns_the_claim_and_clears_its_gates(module_database: Engine) -> None:
    with module_database.begin() as connection:
        postings.set_county_rule(connection, "141124", 5, LIN)
    try:
        claim_id = posted_claim(module_database, dt.date(2024, 8, 1))
        with module_database.begin() as connection:
            first = postings.record_objection(
                connection, claim_id, LIN, raised_by="匿名", content="账户不是本人的", raised_on=dt.date(2024, 8, 2)
            )
            second = postings.record_objection(
                connection, claim_id, LIN, raised_by="村委会", content="同上", raised_on=dt.date(2024, 8, 3)
            )
            postings.resolve_objection(connection, first, LIN, "return", "收款账户须改为本人社保卡")
        returned = claim(module_database, claim_id)
        assert (returned.status, returned.posting_days, returned.posted_from, returned.approver) == (
            "returned",
            None,
            None,
            None,
        )
        with module_database.connect() as connection:
            statuses = dict(
                connection.execute(
                    select(gates.OBJECTIONS.c.id, gates.OBJECTIONS.c.status).where(
                        gates.OBJECTIONS.c.claim_id == claim_id
                    )
                ).all()
            )
        assert statuses == {first: "upheld", second: "upheld"}
        with pytest.raises(ClaimError, match="只有“已批准”"), module_database.begin() as connection:
            postings.resolve_objection(connection, second, LIN, "dismiss", "再次处理")
    finally:
        with module_database.begin() as connection:
            postings.set_county_rule(connection, "141124", None, LIN)


def test_bad_posting_steps_are_refused_and_change_nothing(module_database: Engine) -> None:
    with module_database.begin() as connection:
        postings.set_county_rule(connection, "141124", 5, LIN)
    try:
        claim_id = approved_claim(module_database, add_person(module_database, county="141124"))
        before = snapshot(module_database, claim_id)
        objection = {"raised_by": "村民", "content": "不符合条件"}
        with pytest.raises(ClaimError, match="尚未公示"), module_database.begin() as connection:
            postings.record_objection(connection, claim_id, LIN, raised_on=dt.date(2024, 7, 2), **objection)
        with pytest.raises(ClaimError, match="管辖地区不含临县"), module_database.begin() as connection:
            postings.post(connection, claim_id, XING, dt.date(2024, 7, 1))
        assert snapshot(module_database, claim_id) == before
        with module_database.begin() as connection:
            postings.post(connection, claim_id, LIN, dt.date(2024, 7, 1))
        before = snapshot(module_database, claim_id)
        for step, message in (
            (lambda c: postings.post(c, claim_id, LIN, dt.date(2024, 7, 9)), "不能重复公示"),
            (
                lambda c: postings.record_objection(c, claim_id, LIN, raised_on=dt.date(2024, 7, 6), **objection),
                "公示期为 2024-07-01 至 2024-07-05，异议提出日期 2024-07-06 不在公示期内",
            ),
            (
                lambda c: postings.record_objection(c, claim_id, XING, raised_on=dt.date(2024, 7, 2), **objection),
                "管辖地区不含临县",
            ),
            (
                lambda c: postings.record_objection(c, 999_999, LIN, raised_on=dt.date(2024, 7, 2), **objection),
                "没有编号为 999999 的申报",
            ),
            (lambda c: postings.resolve_objection(c, 999_999, LIN, "dismiss", "无"), "没有编号为 999999 的公示异议"),
            (lambda c: postings.resolve_objection(c, 1, LIN, "maybe", "无"), "处理结果应为以下之一"),
            (lambda c: postings.set_county_rule(c, "141124", 0, LIN), "公示天数应为 1–90 天"),
            (lambda c: postings.set_county_rule(c, "141123", 5, LIN), "管辖地区不含兴县"),
            (lambda c: postings.set_county_rule(c, "9999", 5, LIN), "县代码 '9999' 不正确"),
        ):
            with pytest.raises(ClaimError, match=message), module_database.begin() as connection:
                step(connection)
        assert snapshot(module_database, claim_id) == before
    finally:
        with module_database.begin() as connection:
            postings.set_county_rule(connection, "141124", None, LIN)


def test_an_objection_recorded_while_a_batch_is_built_holds_the_claim_back(module_database: Engine) -> None:
    """Real concurrent PostgreSQL connections: the objection holds the claim's row, the build waits for
    it, rechecks the row and refuses; nothing of the batch is left."""
    if module_database.dialect.name != "postgresql":
        pytest.skip("两个写事务同时进行需要 PostgreSQL 的行锁（SQLite 同一时间只有一个写事务）")
    liulin = Actor("liulin_clerk", may_override=True, role="county", region="141125")
    with module_database.begin() as connection:
        postings.set_county_rule(connection, "141125", 5, liulin)
    claim_id = approved_claim(module_database, add_person(module_database, county="141125"))
    with module_database.begin() as connection:
        postings.post(connection, claim_id, liulin, dt.date(2024, 7, 1))
    outcome: dict[str, str] = {}

    def build_meanwhile() -> None:
        try:
            build(module_database, "revitalization", "141125", dt.date(2024, 7, 10))
            outcome["build"] = "built"
        except ClaimError as exc:
            outcome["build"] = str(exc)

    with module_database.connect() as objecting:
        transaction = objecting.begin()
        postings.record_objection(
            objecting, claim_id, liulin, raised_by="村民", content="不在外务工", raised_on=dt.date(2024, 7, 5)
        )
        builder = threading.Thread(target=build_meanwhile)
        builder.start()
        with module_database.connect() as watching:
            for _ in range(200):
                waiting = watching.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                if waiting:
                    break
                time.sleep(0.05)
        assert waiting == 1, "the build should be waiting for the objection's row lock"
        transaction.commit()
    builder.join(timeout=30)
    assert "已被他人同时处理" in outcome["build"]
    after = claim(module_database, claim_id)
    assert (after.status, after.open_objections) == ("approved", 1)
    with module_database.connect() as connection:
        lines = connection.scalar(
            select(func.count()).select_from(payments.PAYMENTS).where(payments.PAYMENTS.c.claim_id == claim_id)
        )
    assert lines == 0
