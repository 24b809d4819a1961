"""The registry-reading auto-checks of ADR 0034 on SQLite and PostgreSQL: each finds its planted case
and passes the near miss beside it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from claim_gate_support import add_organization, claim, household, insured_workers, org_claim
from claims_support import CHECKER, MAKER, POLICIES, add_person, draft
from sqlalchemy import Engine, func, insert, select, update

from bangfu.claims import decisions, suspect_checks
from bangfu.claims.drafting import Payee
from bangfu.claims.findings import Context, Finding
from bangfu.claims.records import CLAIMS, ClaimError
from bangfu.registry.deaths import DeathRecordError, record_death
from bangfu.store.tables import AuditEntry, Person, TrainingRecord


def finding(engine: Engine, rule: Any, claim_id: int) -> Finding:
    with engine.connect() as connection:
        row = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()
        return rule(Context(connection, POLICIES, row, None))  # type: ignore[no-any-return]


def id_number_of(engine: Engine, person_id: int) -> str:
    with engine.connect() as connection:
        return str(connection.scalar(select(Person.id_number).where(Person.id == person_id)))


def died(engine: Engine, person_id: int, day: dt.date) -> None:
    with engine.begin() as connection:
        record_death(connection, id_number_of(engine, person_id), day, "民政部门通报", actor="county_maker")


def test_a_claim_on_or_after_a_recorded_death_is_flagged(module_database: Engine) -> None:
    # Planted: the event (work from 1 March 2024) is after the recorded death.
    dead = add_person(module_database)
    claim_id = draft(module_database, dead)
    died(module_database, dead, dt.date(2024, 2, 1))
    with module_database.begin() as connection:
        assert decisions.check_claim(connection, POLICIES, claim_id, MAKER) is True
    results = {f["rule"]: f for f in json.loads(claim(module_database, claim_id).check_results)}
    assert results["deceased"]["passed"] is False
    assert "2024-02-01 死亡（来源：民政部门通报）" in results["deceased"]["reason"]
    assert "事件日 2024-03-01" in results["deceased"]["reason"]
    with pytest.raises(ClaimError, match="未通过自动审核"), module_database.begin() as connection:
        decisions.approve(connection, claim_id, decisions.Actor("county_clerk"))

    # Planted: an event before the death, but drafted after it.
    late = add_person(module_database)
    late_claim = draft(module_database, late)
    died(module_database, late, dt.date(2024, 5, 1))
    flagged = finding(module_database, suspect_checks.deceased, late_claim)
    assert not flagged.passed and "起草于" in flagged.reason

    # Near miss: the same death, the claim drafted before it (an older draft) for an event before it.
    with module_database.begin() as connection:
        connection.execute(
            update(CLAIMS).where(CLAIMS.c.id == late_claim).values(created_at=dt.datetime(2024, 4, 1, 9, tzinfo=dt.UTC))
        )
    assert finding(module_database, suspect_checks.deceased, late_claim).passed
    alive = draft(module_database, add_person(module_database))
    assert finding(module_database, suspect_checks.deceased, alive).reason == "登记库中无此人的死亡记录"


def test_recording_a_death_is_audited_and_refuses_bad_input(module_database: Engine) -> None:
    person = add_person(module_database)
    number = id_number_of(module_database, person)

    def audits() -> int:
        with module_database.connect() as connection:
            return int(
                connection.scalar(
                    select(func.count()).where(AuditEntry.action == "person.death", AuditEntry.target_id == str(person))
                )
                or 0
            )

    for day, source, message in (
        (dt.date(2099, 1, 1), "民政", "晚于今天"),
        (dt.date(1900, 1, 1), "民政", "早于出生日期"),
        (dt.date(2024, 1, 1), "  ", "请写明死亡信息的来源"),
    ):
        with pytest.raises(DeathRecordError, match=message), module_database.begin() as connection:
            record_death(connection, number, day, source, actor="county_maker")
    with pytest.raises(DeathRecordError, match="登记库中没有身份证号为"), module_database.begin() as connection:
        record_death(connection, "11010519491231002X", dt.date(2024, 1, 1), "民政", actor="county_maker")
    assert audits() == 0
    with module_database.begin() as connection:
        first = record_death(connection, number, dt.date(2024, 1, 5), "民政", actor="county_maker")
        again = record_death(connection, number, dt.date(2024, 1, 5), "民政", actor="county_maker")
        corrected = record_death(connection, number, dt.date(2024, 1, 6), "民政", actor="county_maker")
    assert (first.changed, again.changed, corrected.changed, corrected.before) == (
        True,
        False,
        True,
        dt.date(2024, 1, 5),
    )
    assert audits() == 2


def add_training(engine: Engine, person_id: int, start: dt.date, days: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(TrainingRecord.__table__).values(
                person_id=person_id, provider="兴县某培训学校", programme="焊工", start_date=start, days=days
            )
        )


def test_training_days_beyond_the_calendar_days_are_flagged(module_database: Engine) -> None:
    # The claim's day is 30 June 2024; a course begun on 1 June has 30 calendar days by then.
    planted = add_person(module_database)
    add_training(module_database, planted, dt.date(2024, 6, 1), 31)
    flagged = finding(
        module_database, suspect_checks.training_days, draft(module_database, planted, "training_living_allowance")
    )
    assert not flagged.passed and "只有 30 个日历日，却登记培训 31 天" in flagged.reason
    near = add_person(module_database)
    add_training(module_database, near, dt.date(2024, 6, 1), 30)
    assert finding(
        module_database, suspect_checks.training_days, draft(module_database, near, "training_living_allowance")
    ).passed


def test_overlapping_trainings_of_one_person_are_flagged(module_database: Engine) -> None:
    # add_person's course: 10 days from 1 April 2024, so at the earliest it ends on 10 April.
    planted = add_person(module_database)
    add_training(module_database, planted, dt.date(2024, 4, 10), 5)
    planted_claim = draft(module_database, planted, "training_living_allowance")
    flagged = finding(module_database, suspect_checks.overlapping_trainings, planted_claim)
    assert not flagged.passed and "最早 2024-04-10 结束" in flagged.reason and "2024-04-10 开始" in flagged.reason
    near = add_person(module_database)
    add_training(module_database, near, dt.date(2024, 4, 11), 5)
    near_claim = draft(module_database, near, "training_living_allowance")
    assert finding(module_database, suspect_checks.overlapping_trainings, near_claim).passed
    # A claim not paid per course day is not judged by the training rules.
    other = finding(module_database, suspect_checks.overlapping_trainings, draft(module_database, planted))
    assert other.passed and "不适用" in other.reason


def provider_with_history(engine: Engine, monthly: int, june: int) -> int:
    """A provider's trainee-month claims: ``monthly`` units in each of December 2023 – May 2024, and
    ``june`` in June 2024 (that claim is returned)."""
    org = add_organization(engine)
    for month in (dt.date(2023, 12, 31), *(dt.date(2024, m, 28) for m in range(1, 6))):
        org_claim(engine, org, decided_on=month, event_date=month, units=monthly, status="paid")
    # A rejected claim of June does not count.
    org_claim(engine, org, units=500, status="rejected")
    return org_claim(engine, org, units=june)


def test_a_providers_jump_above_its_own_history_is_flagged(module_database: Engine) -> None:
    rule = suspect_checks.PROVIDER_JUMP
    assert (rule.factor, rule.months, rule.minimum) == (3, 6, 20)
    flagged = finding(module_database, suspect_checks.provider_jump, provider_with_history(module_database, 5, 20))
    assert not flagged.passed
    assert "2024 年 6 月申报 20 个学员月，超过此前 6 个月中位数 5 的 3 倍" in flagged.reason
    # Near misses: exactly three times the median; above it but under the minimum of 20.
    assert finding(module_database, suspect_checks.provider_jump, provider_with_history(module_database, 7, 21)).passed
    assert finding(module_database, suspect_checks.provider_jump, provider_with_history(module_database, 5, 19)).passed
    # A new provider with no history: 20 trainee-months in its first month is flagged, 19 is not.
    new = add_organization(module_database)
    assert not finding(module_database, suspect_checks.provider_jump, org_claim(module_database, new, units=20)).passed
    small = add_organization(module_database)
    assert finding(module_database, suspect_checks.provider_jump, org_claim(module_database, small, units=19)).passed


def test_an_organization_claiming_more_hires_than_it_insured_is_flagged(module_database: Engine) -> None:
    org = add_organization(module_database)
    workers = [add_person(module_database) for _ in range(4)]
    insured_workers(module_database, org, workers[:3])
    insured_workers(module_database, org, workers[3:], insured=False)
    hire = {"repeat_per": "hire", "benefit_id": "one_time_hiring_subsidy", "fund": "employment"}
    near = org_claim(module_database, org, money_key=f"test|o{org}|hire#1", units=3, **hire)
    planted = org_claim(module_database, org, money_key=f"test|o{org}|hire#4", units=1, **hire)
    assert finding(module_database, suspect_checks.insured_workers, near).passed
    flagged = finding(module_database, suspect_checks.insured_workers, planted)
    assert not flagged.passed and "第 4 名吸纳人员" in flagged.reason and "只有 3 人" in flagged.reason


def test_an_account_shared_by_unrelated_claimants_is_flagged_across_counties(module_database: Engine) -> None:
    account = "6217000099990001111"
    first, spouse, stranger = (add_person(module_database) for _ in range(3))
    household(module_database, first, spouse)
    payee = Payee("王五", account, "兴县农商银行")
    draft(module_database, first, payee=payee)
    # Near miss: a member of the same household paid into the same account.
    spouse_claim = draft(module_database, spouse, payee=payee)
    assert finding(module_database, suspect_checks.shared_account, spouse_claim).passed
    # Planted: someone of another household, claimed by another county.
    planted = draft(module_database, stranger, payee=payee, actor="linxian_maker", region="141124")
    with module_database.begin() as connection:
        assert decisions.check_claim(connection, POLICIES, planted, MAKER) is True
    results = {f["rule"]: f for f in json.loads(claim(module_database, planted).check_results)}
    assert results["shared_account"]["passed"] is False
    assert "尾号 1111" in results["shared_account"]["reason"] and "兴县" in results["shared_account"]["reason"]
    with module_database.begin() as connection:
        decisions.approve(connection, planted, CHECKER, override="经核实为其代管账户，附委托书")
    # Organizations: the same organization twice is fine, two organizations are not.
    org, other = add_organization(module_database), add_organization(module_database)
    shared = {"payee_account": "6228480000000002222", "payee_name": "单位"}
    org_claim(module_database, org, **shared)
    same = org_claim(module_database, org, **shared)
    assert finding(module_database, suspect_checks.shared_account, same).passed
    assert not finding(
        module_database, suspect_checks.shared_account, org_claim(module_database, other, **shared)
    ).passed


def test_an_account_given_after_the_check_is_judged_again(module_database: Engine) -> None:
    account = "6217000099990004444"
    first, stranger = add_person(module_database), add_person(module_database)
    draft(module_database, first, payee=Payee("赵六", account))
    claim_id = draft(module_database, stranger)
    with module_database.begin() as connection:
        assert decisions.check_claim(connection, POLICIES, claim_id, MAKER) is False
        # Near miss: an account of its own keeps the claim clean.
        decisions.set_payee(connection, claim_id, MAKER, Payee("钱七", "6217000099990005555"))
    assert claim(module_database, claim_id).flagged is False
    with module_database.begin() as connection:
        decisions.set_payee(connection, claim_id, MAKER, Payee("赵六", account))
    changed = claim(module_database, claim_id)
    results = {f["rule"]: f for f in json.loads(changed.check_results)}
    assert changed.flagged is True and results["shared_account"]["passed"] is False
    assert results["deceased"]["passed"] is True  # the other findings are kept as they were
    with pytest.raises(ClaimError, match="未通过自动审核"), module_database.begin() as connection:
        decisions.approve(connection, claim_id, decisions.Actor("county_clerk"))
