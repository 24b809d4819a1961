"""Organizations, households and claim rows written directly, for the checks and gates of ADR 0034
that the bundled policy's answers cannot easily reach (a 120,000-yuan reward, six months of claims)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from claims_support import ensure_budget
from sqlalchemy import Engine, insert, select, update

from bangfu.claims.drafting import Payee, payee_values
from bangfu.claims.records import CLAIMS, KEYS, now
from bangfu.store.tables import EmploymentSpell, Household, Organization, Person

_serial = itertools.count(1)


def add_organization(engine: Engine, county: str = "141123") -> int:
    serial = next(_serial)
    with engine.begin() as connection:
        return int(
            connection.execute(
                insert(Organization.__table__)
                .values(
                    credit_code=f"91{county}{serial:010d}",
                    name=f"兴县第{serial}培训学校",
                    kind="enterprise",
                    region_code=county,
                )
                .returning(Organization.__table__.c.id)
            ).scalar_one()
        )


def org_claim(engine: Engine, org_id: int, **values: Any) -> int:
    """A claim row of an organization (status ``checked`` unless told), with its money key."""
    serial = next(_serial)
    at = now()
    row: dict[str, Any] = {
        "beneficiary_kind": "organization",
        "org_id": org_id,
        "region_code": "141123",
        "document_id": "shanxi-2021",
        "benefit_id": "work_for_training",
        "fund": "unemployment_insurance",
        "repeat_per": "trainee_month",
        "event_date": dt.date(2024, 6, 30),
        "decided_on": dt.date(2024, 6, 30),
        "amount_fen": 300_00,
        "units": 1,
        "money_key": f"test|o{org_id}|#{serial}",
        "explanation": "{}",
        "parameters": "[]",
        "flagged": False,
        "status": "checked",
        "maker": "county_maker",
        "created_at": at,
        "updated_at": at,
    }
    if "payee_account" in values:
        # Given as a plain number, stored as the platform stores it: sealed, hashed, its tail (ADR 0035).
        payee = Payee(values.pop("payee_name", "收款人"), values.pop("payee_account"), values.pop("payee_bank", None))
        values.update(payee_values(payee))
    row.update(values)
    # Approvals need a budget of the county, fund and year (ADR 0035): a large one, set once.
    ensure_budget(engine, str(row["region_code"]), row["event_date"].year)
    with engine.begin() as connection:
        claim_id = int(connection.execute(insert(CLAIMS).values(**row).returning(CLAIMS.c.id)).scalar_one())
        connection.execute(insert(KEYS).values(claim_id=claim_id, money_key=row["money_key"], live=True))
    return claim_id


def claim(engine: Engine, claim_id: int) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()


def household(engine: Engine, *person_ids: int) -> int:
    """Put the persons in one new household."""
    with engine.begin() as connection:
        household_id = int(
            connection.execute(
                insert(Household.__table__)
                .values(household_number=f"H{next(_serial):08d}", region_code="141123", address="兴县")
                .returning(Household.__table__.c.id)
            ).scalar_one()
        )
        connection.execute(
            update(Person.__table__).where(Person.__table__.c.id.in_(person_ids)).values(household_id=household_id)
        )
    return household_id


def insured_workers(engine: Engine, org_id: int, person_ids: list[int], insured: bool = True) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(EmploymentSpell.__table__),
            [
                {
                    "person_id": p,
                    "employer_org_id": org_id,
                    "employer_name": "兴县某厂",
                    "work_region": "141123",
                    "start_date": dt.date(2024, 1, 1),
                    "social_insurance": insured,
                }
                for p in person_ids
            ],
        )
