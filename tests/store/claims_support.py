"""Registered persons whom the bundled policy grants money, and the claim steps tests repeat."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session
from store_support import id_number
from typer.testing import CliRunner, Result

from bangfu.claims import budgets, decisions, payments
from bangfu.claims.budgets import BUDGETS, Scope
from bangfu.claims.decisions import Actor
from bangfu.claims.drafting import Payee, draft_claim, payee_values
from bangfu.claims.records import CLAIMS
from bangfu.cli import app
from bangfu.policy.policy_set import PolicySet
from bangfu.settings import Settings
from bangfu.store.tables import EmploymentSpell, Person, PersonCategory, TrainingRecord

DAY = dt.date(2024, 6, 30)
POLICIES = PolicySet.bundled()
MAKER, CHECKER, OTHER = Actor("county_maker"), Actor("county_checker", may_override=True), Actor("county_other")


PROVINCE = Scope("province_finance", "province", "14")
CIPHER = Settings(database_url="sqlite://", data_dir=Path(".")).account_cipher()  # the development key


def ensure_budget(engine: Engine, county: str, year: int = 2024, yuan: int = 10_000_000) -> None:
    """A budget for ``county`` in ``year`` for every fund, unless one is set (approvals need one)."""
    with engine.begin() as connection:
        for fund in ("revitalization", "employment", "unemployment_insurance"):
            if not connection.scalar(
                select(func.count()).where(
                    BUDGETS.c.region_code == county, BUDGETS.c.fund == fund, BUDGETS.c.year == year
                )
            ):
                budgets.set_budget(
                    connection, region=county, fund=fund, year=year, amount_fen=yuan * 100, scope=PROVINCE
                )


def add_person(engine: Engine, county: str = "141123", training_days: int = 10, budget: bool = True) -> int:
    """A poverty-alleviated person of ``county`` working in Shenzhen since March 2024 (transport
    subsidy 800 yuan for 2024) and in a training course since 1 April 2024 (15 yuan a day).
    With ``budget``, the county has a large 2024 budget of every fund (``ensure_budget``)."""
    if budget:
        ensure_budget(engine, county)
    with Session(engine) as session, session.begin():
        person = Person(id_number=id_number(county), name="李四", hukou_region=county, labor_capacity="ordinary")
        session.add(person)
        session.flush()
        session.add_all(
            [
                PersonCategory(person_id=person.id, category="poverty_alleviated", start_date=dt.date(2020, 1, 1)),
                EmploymentSpell(
                    person_id=person.id,
                    employer_name="深圳某电子厂",
                    work_region="440305",
                    start_date=dt.date(2024, 3, 1),
                    organized_export=False,
                    travel_cost_fen=95_000,
                ),
                TrainingRecord(
                    person_id=person.id,
                    provider="兴县职业学校",
                    programme="电工",
                    start_date=dt.date(2024, 4, 1),
                    days=training_days,
                ),
            ]
        )
        return int(person.id)


def draft(engine: Engine, person_id: int, benefit: str = "transport_cross_province", **options: object) -> int:
    if "region" in options:
        ensure_budget(engine, str(options["region"]))  # a claim drafted for another county is approved there
    with engine.begin() as connection:
        return draft_claim(
            connection,
            POLICIES,
            entity="person",
            key=person_id,
            benefit_id=benefit,
            day=DAY,
            actor=str(options.pop("actor", MAKER.name)),
            **options,  # type: ignore[arg-type]
        )


def approved_claim(engine: Engine, person_id: int, account: str = "6217000010001234567") -> int:
    """A drafted, checked and approved claim with a payee account."""
    claim_id = draft(engine, person_id)
    with engine.begin() as connection:
        assert decisions.check_claim(connection, POLICIES, claim_id, MAKER) is False
        decisions.approve(connection, claim_id, CHECKER)
        decisions.set_payee(connection, claim_id, MAKER, Payee("李四", account, "兴县农商银行"))
    return claim_id


def claim_status(engine: Engine, claim_id: int) -> str:
    with engine.connect() as connection:
        return str(connection.scalar(select(CLAIMS.c.status).where(CLAIMS.c.id == claim_id)))


def exported_batch(engine: Engine, county: str, folder: Path) -> tuple[int, Path]:
    """Build, approve and export the county's batch of approved revitalization-fund claims."""
    with engine.begin() as connection:
        built = payments.build_batch(
            connection, fund="revitalization", region=county, payer_bank="兴县农商银行", actor=MAKER
        )
    assert built.batch_id is not None
    with engine.begin() as connection:
        payments.approve_batch(connection, built.batch_id, CHECKER)
    path = folder / f"batch-{built.batch_id}.csv"
    with engine.begin() as connection:
        payments.export_batch(connection, built.batch_id, path, OTHER)
    return built.batch_id, path


def return_file(folder: Path, lines: list[tuple[str, str, int]], name: str = "return.csv") -> Path:
    """A bank return file: (reference, 成功/失败/退汇, amount in fen) per line."""
    rows = ["支付流水号,处理结果,金额（分）,银行说明,处理日期"]
    rows += [
        f"{ref},{result},{fen},{'账户已销户' if result == '失败' else '入账'},2024-07-05" for ref, result, fen in lines
    ]
    path = folder / name
    path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def bulk_approved_claims(
    engine: Engine, count: int, county: str = "141123", status: str = "approved", maker: str = MAKER.name
) -> list[int]:
    """``count`` approved (or ``status``), batchable revitalization-fund claims with payee accounts, one
    person, inserted in bulk (no events: for the steps that follow)."""
    person = add_person(engine, county)
    at = dt.datetime.now(dt.UTC)
    claim = {
        "beneficiary_kind": "person", "person_id": person, "region_code": county, "document_id": "shanxi-2021",
        "benefit_id": "training_living_allowance", "fund": "revitalization", "repeat_per": "course_day",
        "event_date": dt.date(2024, 4, 1), "decided_on": DAY, "amount_fen": 1_500, "units": 1,
        "explanation": "{}", "parameters": "[]", "flagged": False, "status": status, "maker": maker,
        "approver": CHECKER.name if status == "approved" else None, "created_at": at, "updated_at": at,
        "payee_name": "李四", "payee_bank": "兴县农商银行",
    }  # fmt: skip
    with engine.begin() as connection:
        return list(
            connection.execute(
                insert(CLAIMS).returning(CLAIMS.c.id, sort_by_parameter_order=True),
                [
                    {
                        **claim,
                        "money_key": f"bulk-{person}-{n}",
                        **payee_values(Payee("李四", f"62170000{n:011d}", "兴县农商银行")),
                    }
                    for n in range(count)
                ],
            ).scalars()
        )


def invoke(*args: str) -> Result:
    """``bangfu ARGS…`` in process, as a user types it."""
    return CliRunner().invoke(app, list(args))


def said(result: Result, message: str) -> bool:
    """Whether the output holds ``message``, however the console wrapped its lines."""
    return "".join(message.split()) in "".join(result.output.split())
