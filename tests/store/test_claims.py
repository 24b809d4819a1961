"""Claims on SQLite and PostgreSQL: the money key, the checks, maker-checker and the record of decisions."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from claims_support import CHECKER, MAKER, OTHER, POLICIES, add_person, approved_claim, claim_status, draft
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from bangfu.claims import decisions
from bangfu.claims.decisions import Actor
from bangfu.claims.drafting import DuplicateClaimError, monthly_run
from bangfu.claims.records import CLAIMS, EVENTS, KEYS, ClaimError
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry, Person
from database_servers import migrate, postgres_database


def events(engine: Engine, claim_id: int) -> list[tuple[str | None, str, str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(EVENTS.c.from_status, EVENTS.c.to_status, EVENTS.c.actor, EVENTS.c.reason)
            .where(EVENTS.c.claim_id == claim_id)
            .order_by(EVENTS.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_draft_keeps_the_engines_answer_and_its_money_key(module_database: Engine) -> None:
    person = add_person(module_database)
    claim_id = draft(module_database, person)
    with module_database.connect() as connection:
        claim = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()
        audited = connection.scalar(
            select(func.count()).where(AuditEntry.action == "claim.drafted", AuditEntry.target_id == str(claim_id))
        )
    assert (claim.amount_fen, claim.status, claim.maker, claim.fund) == (
        80_000,
        "drafted",
        MAKER.name,
        "revitalization",
    )
    assert claim.money_key == f"shanxi-2021|transport_cross_province|p{person}|2024"
    assert claim.event_date == dt.date(2024, 3, 1) and claim.region_code == "141123"
    assert "符合全部条件" in json.loads(claim.explanation)["reasons"]
    assert {p["key"]: p["value"] for p in json.loads(claim.parameters)} == {"transport_cross_province.cap_fen": 80_000}
    assert claim.document_version is not None and len(claim.document_version) == 64
    assert events(module_database, claim_id) == [(None, "drafted", MAKER.name, "起草申报")]
    assert audited == 1


def test_the_database_refuses_a_second_live_claim_under_one_key_from_any_county(module_database: Engine) -> None:
    person = add_person(module_database)
    first = draft(module_database, person)
    with pytest.raises(DuplicateClaimError, match=r"同一计发依据已有申报 \d+（兴县，已起草），不能重复申报"):
        draft(module_database, person, actor="linxian_maker", region="141124")
    # Not a check in Python: the unique index itself refuses the row.
    with pytest.raises(IntegrityError), module_database.begin() as connection:
        key = connection.scalar(select(CLAIMS.c.money_key).where(CLAIMS.c.id == first))
        connection.execute(insert(KEYS).values(claim_id=first, money_key=key, live=True))
    # A rejected claim frees its key; the claim is drafted again, by the other county.
    with module_database.begin() as connection:
        decisions.reject(connection, first, CHECKER, "户籍已迁往临县，由临县申报")
    second = draft(module_database, person, actor="linxian_maker", region="141124")
    assert claim_status(module_database, first) == "rejected"
    assert claim_status(module_database, second) == "drafted"


def test_per_unit_claims_number_their_units(module_database: Engine) -> None:
    person = add_person(module_database, training_days=10)
    claim_id = draft(module_database, person, "training_living_allowance")
    with module_database.connect() as connection:
        claim = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()
        held = list(connection.scalars(select(KEYS.c.money_key).where(KEYS.c.claim_id == claim_id).order_by(KEYS.c.id)))
    assert (claim.units, claim.amount_fen) == (10, 10 * 1_500)
    assert held[0].endswith(f"p{person}|course_day#1") and held[-1].endswith("#10") and len(held) == 10
    with pytest.raises(DuplicateClaimError):
        draft(module_database, person, "training_living_allowance", actor="someone_else")


def test_the_approver_is_never_the_maker(module_database: Engine) -> None:
    claim_id = draft(module_database, add_person(module_database))
    with module_database.begin() as connection:
        decisions.check_claim(connection, POLICIES, claim_id, MAKER)
    with pytest.raises(ClaimError, match="审批须由另一名工作人员进行"), module_database.begin() as connection:
        decisions.approve(connection, claim_id, Actor(MAKER.name, may_override=True))
    # Nor by any other writer: the CHECK constraint refuses it.
    with pytest.raises(IntegrityError), module_database.begin() as connection:
        connection.execute(update(CLAIMS).where(CLAIMS.c.id == claim_id).values(approver=MAKER.name))
    with module_database.begin() as connection:
        decisions.approve(connection, claim_id, CHECKER)
    assert claim_status(module_database, claim_id) == "approved"
    assert [e[1] for e in events(module_database, claim_id)] == ["drafted", "checked", "approved"]


def test_an_amount_unlike_the_engines_is_flagged_and_needs_a_recorded_override(module_database: Engine) -> None:
    claim_id = draft(module_database, add_person(module_database), amount_fen=95_000)
    with module_database.begin() as connection:
        assert decisions.check_claim(connection, POLICIES, claim_id, MAKER) is True
        results = json.loads(connection.scalar(select(CLAIMS.c.check_results).where(CLAIMS.c.id == claim_id)))
    failed = [r for r in results if not r["passed"]]
    assert [r["rule"] for r in failed] == ["amount"]
    assert failed[0]["reason"] == "申报金额 950.00 元 与政策计算的 800.00 元 不符"
    with pytest.raises(ClaimError, match="审核例外批准"), module_database.begin() as connection:
        decisions.approve(connection, claim_id, OTHER)
    with pytest.raises(ClaimError, match="必须写明原因"), module_database.begin() as connection:
        decisions.approve(connection, claim_id, CHECKER, override="  ")
    with module_database.begin() as connection:
        decisions.approve(connection, claim_id, CHECKER, override="车票另有凭证，经局务会同意")
    assert events(module_database, claim_id)[-1][1:] == (
        "approved",
        CHECKER.name,
        "例外批准：车票另有凭证，经局务会同意",
    )


def test_ineligible_on_the_event_date_and_declared_exclusions_are_flagged(module_database: Engine) -> None:
    person = add_person(module_database)
    claim_id = draft(module_database, person)
    with module_database.begin() as connection:
        # The registry changes after drafting: no longer able to work.
        connection.execute(update(Person.__table__).where(Person.id == person).values(labor_capacity="none"))
        # And a county page drafted the exclusive in-province transport subsidy for the same year.
        row = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()._asdict()
        row.pop("id")
        partner = connection.execute(
            insert(CLAIMS)
            .values({**row, "benefit_id": "transport_in_province_organized", "money_key": "x"})
            .returning(CLAIMS.c.id)
        ).scalar_one()
        decisions.check_claim(connection, POLICIES, claim_id, MAKER)
        results = {
            r["rule"]: r
            for r in json.loads(connection.scalar(select(CLAIMS.c.check_results).where(CLAIMS.c.id == claim_id)))
        }
    assert results["eligible"]["passed"] is False and "不符合条件" in results["eligible"]["reason"]
    assert results["exclusions"]["passed"] is False
    assert results["exclusions"]["reason"].startswith(f"已有互斥项目的申报 {partner}（已起草）")
    assert results["repeat_key"]["passed"] is True


def test_return_for_correction_then_check_again(module_database: Engine) -> None:
    claim_id = draft(module_database, add_person(module_database), amount_fen=90_000)
    with module_database.begin() as connection:
        decisions.check_claim(connection, POLICIES, claim_id, MAKER)
    with pytest.raises(ClaimError, match="退回修改必须写明原因"), module_database.begin() as connection:
        decisions.return_for_correction(connection, claim_id, CHECKER, "")
    with module_database.begin() as connection:
        decisions.return_for_correction(connection, claim_id, CHECKER, "金额超过上限")
        decisions.correct(connection, claim_id, MAKER, reason="按上限改为 800 元", amount_fen=80_000)
        assert decisions.check_claim(connection, POLICIES, claim_id, MAKER) is False
    assert [e[1] for e in events(module_database, claim_id)] == ["drafted", "checked", "returned", "drafted", "checked"]


def test_the_monthly_run_drafts_once(module_database: Engine) -> None:
    person = add_person(module_database, county="141127")  # a county no other test uses

    def check(connection: object, claim_id: int) -> None:
        decisions.check_claim(connection, POLICIES, claim_id, MAKER)  # type: ignore[arg-type]

    first = monthly_run(module_database, POLICIES, "2024-06", actor=MAKER.name, region="141127", after_draft=check)
    again = monthly_run(module_database, POLICIES, "2024-06", actor=MAKER.name, region="141127")
    with module_database.connect() as connection:
        benefits = sorted(connection.scalars(select(CLAIMS.c.benefit_id).where(CLAIMS.c.person_id == person)))
    assert first.day == dt.date(2024, 6, 30) and first.cases == 1
    assert benefits == ["training_living_allowance", "transport_cross_province"]
    assert {claim_status(module_database, c) for c in first.drafted} == {"checked"}
    assert (again.drafted, again.duplicates) == ([], 2)
    with pytest.raises(ValueError, match="应为 YYYY-MM"):
        monthly_run(module_database, POLICIES, "2024-13", actor=MAKER.name)


def test_two_approvers_at_once_exactly_one_succeeds_on_postgresql() -> None:
    """Real concurrent PostgreSQL connections (skipped with the reason where no server runs)."""
    databases = postgres_database()
    url = next(databases)
    try:
        migrate(url)
        engine = make_engine(url, pool_size=4)
        try:
            claim_id = draft(engine, add_person(engine))
            with engine.begin() as connection:
                decisions.check_claim(connection, POLICIES, claim_id, MAKER)
            barrier = threading.Barrier(2)
            outcomes: dict[str, str] = {}

            def approve(name: str) -> None:
                with engine.connect() as connection:
                    transaction = connection.begin()
                    # Both have read the claim as "checked" before either writes.
                    connection.execute(text("SELECT status FROM claims WHERE id = :i"), {"i": claim_id})
                    barrier.wait()
                    try:
                        decisions.approve(connection, claim_id, Actor(name))
                        transaction.commit()
                        outcomes[name] = "approved"
                    except ClaimError as exc:
                        transaction.rollback()
                        outcomes[name] = str(exc)

            threads = [threading.Thread(target=approve, args=(n,)) for n in ("approver_a", "approver_b")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sorted(o == "approved" for o in outcomes.values()) == [False, True]
            loser = next(o for o in outcomes.values() if o != "approved")
            assert "已被他人同时处理" in loser or "只有“已自动审核”的申报才能" in loser
            approvals = [e for e in events(engine, claim_id) if e[1] == "approved"]
            assert len(approvals) == 1 and outcomes[approvals[0][2]] == "approved"
        finally:
            engine.dispose()
    finally:
        databases.close()


def test_approved_claims_have_an_account_masked_in_the_record(module_database: Engine) -> None:
    claim_id = approved_claim(module_database, add_person(module_database))
    with module_database.connect() as connection:
        after = connection.scalar(
            select(AuditEntry.after)
            .where(AuditEntry.target_id == str(claim_id))
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    assert "****4567" in after and "6217000010001234567" not in after
