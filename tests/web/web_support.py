"""A small registry with one account per role in two regions, and how tests sign in to the platform.

Persons and organizations sit where the scopes part: two townships of 兴县 (吕梁市), 临县 (吕梁市) and
小店区 (太原市), so that every role has something it must see and something it must not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bangfu.accounts.users import add_user
from bangfu.claims import budgets
from bangfu.core import regions
from bangfu.core.citizen_id import check_digit
from bangfu.policy.policy_set import PolicySet
from bangfu.reports.dashboard import refresh_figures
from bangfu.store.db import make_engine
from bangfu.store.tables import (
    BenefitLedgerEntry,
    EmploymentSpell,
    Household,
    Organization,
    Person,
    PersonCategory,
)
from database_servers import migrate

PASSWORD = "correct-horse-battery"
XING, LIN, XIAODIAN = "141123", "141124", "140105"
TOWN_A, TOWN_B = (t.code for t in regions.townships_of(XING)[:2])


@dataclass(frozen=True)
class Placed:
    """A registered person or organization and the region it belongs to (for the expected scope)."""

    id: int
    county: str
    township: str | None
    id_number: str = ""
    phone: str = ""


@dataclass
class Platform:
    url: str
    client: TestClient
    persons: dict[str, Placed] = field(default_factory=dict)
    organizations: dict[str, Placed] = field(default_factory=dict)
    # username -> (role, region)
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)


def id_number(county: str, serial: int, born: dt.date) -> str:
    first17 = f"{county}{born:%Y%m%d}{serial:03d}"
    return first17 + check_digit(first17)


# (username, role, region, may unmask)
ACCOUNTS = (
    ("province", "province", "14", True),
    ("city_lvliang", "city", "1411", False),
    ("city_taiyuan", "city", "1401", False),
    ("county_xing", "county", XING, True),
    ("county_xiaodian", "county", XIAODIAN, False),
    ("town_a", "township", TOWN_A, False),
    ("town_b", "township", TOWN_B, False),
    ("auditor_lvliang", "auditor", "1411", False),
)


def _fill(session: Session) -> tuple[dict[str, Placed], dict[str, Placed]]:
    persons: dict[str, Placed] = {}
    places = {
        "xing_a": (XING, TOWN_A),
        "xing_b": (XING, TOWN_B),
        "xing_none": (XING, None),
        "lin": (LIN, None),
        "xiaodian": (XIAODIAN, None),
    }
    for serial, (key, (county, township)) in enumerate(places.items(), start=1):
        household = Household(household_number=f"H{serial:04d}", region_code=county, address=f"{key} 村")
        session.add(household)
        session.flush()
        number = id_number(county, serial * 2 + 1, dt.date(1985, 3, serial))
        phone = f"1390000{serial:04d}"
        person = Person(
            id_number=number,
            name=f"测试{key}",
            hukou_region=county,
            residence_region=county,
            township_code=township,
            household_id=household.id,
            labor_capacity="ordinary",
            phone=phone,
        )
        session.add(person)
        session.flush()
        session.add(PersonCategory(person_id=person.id, category="poverty_alleviated", start_date=dt.date(2016, 1, 1)))
        session.add(
            EmploymentSpell(
                person_id=person.id,
                employer_name="深圳某电子厂",
                work_region="440305",
                start_date=dt.date(2024, 3, 1),
                organized_export=False,
                travel_cost_fen=95000,
            )
        )
        session.add(
            BenefitLedgerEntry(
                person_id=person.id,
                benefit_id="transport_cross_province",
                date=dt.date(2023, 2, 1),
                amount_fen=80000,
                source="测试",
            )
        )
        persons[key] = Placed(person.id, county, township, number, phone)
    organizations: dict[str, Placed] = {}
    for serial, (key, county) in enumerate({"org_xing": XING, "org_xiaodian": XIAODIAN}.items(), start=1):
        org = Organization(
            credit_code=f"91140000MA0000000{serial}",
            name=f"{key} 有限公司",
            kind="enterprise",
            region_code=county,
            absorbed_poverty_alleviated=12,
        )
        session.add(org)
        session.flush()
        organizations[key] = Placed(org.id, county, None)
    for username, role, region, can_unmask in ACCOUNTS:
        add_user(
            session,
            username=username,
            role=role,
            region_code=region,
            password=PASSWORD,
            display_name=username,
            can_unmask=can_unmask,
            actor="tests",
        )
    return persons, organizations


def set_budgets(url: str) -> None:
    """Large budgets of every fund for the registry's counties around today (approvals need one, ADR 0035)."""
    finance = budgets.Scope("province_finance", "province", "14")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for county in (XING, XIAODIAN, LIN):
                for year in range(dt.date.today().year - 3, dt.date.today().year + 2):
                    for fund in ("revitalization", "employment", "unemployment_insurance"):
                        budgets.set_budget(
                            connection, region=county, fund=fund, year=year, amount_fen=10**10, scope=finance
                        )
    finally:
        engine.dispose()


def build_registry(url: str) -> tuple[dict[str, Placed], dict[str, Placed]]:
    """Migrate ``url`` and fill it with the persons, organizations and accounts above."""
    migrate(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            placed = _fill(session)
        with engine.begin() as connection:
            refresh_figures(connection, dt.date.today(), PolicySet.bundled())
    finally:
        engine.dispose()
    set_budgets(url)
    return placed


def sees(role_region: str, role: str, placed: Placed) -> bool:
    """What a scope must see: the subtree of its region (townships see only their own township)."""
    if role == "township":
        return placed.township == role_region
    return placed.county.startswith(role_region)  # province 14, city 1411, county 141123


def api_token(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def login_answer(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """The login form's answer (not followed), after a fresh start with the form's CSRF cookie."""
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )


def page_login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a browser does (CSRF cookie and field included)."""
    answer = login_answer(client, username, password)
    assert answer.status_code == 303, answer.text


def add_accounts(url: str, accounts: list[tuple[str, str, str]], **extra: Any) -> None:
    """Accounts (username, role, region) with PASSWORD, for tests that change them."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            for username, role, region in accounts:
                add_user(
                    session, username=username, role=role, region_code=region, password=PASSWORD, actor="tests", **extra
                )
    finally:
        engine.dispose()
