"""A platform of its own for the claim pages and API: the registry of ``web_support`` plus persons whom
the bundled policy grants the transport subsidy today, and the claim steps the tests repeat.

Its own database (per back end), so that the claims these tests make cannot change what the shared
``platform`` shows other modules (counts, audit entries).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web_support import TOWN_A, TOWN_B, XIAODIAN, XING, Platform, build_registry, id_number

from bangfu.audit.log import LOG
from bangfu.claims import decisions
from bangfu.claims.decisions import Actor
from bangfu.claims.drafting import draft_claim
from bangfu.claims.records import CLAIMS, EVENTS
from bangfu.policy.policy_set import PolicySet
from bangfu.store.db import make_engine
from bangfu.store.tables import EmploymentSpell, Household, Person, PersonCategory
from bangfu.web.app import create_app
from database_servers import postgres_database, settings_for

POLICIES = PolicySet.bundled()
TRANSPORT = "transport_cross_province"


@dataclass
class ClaimsPlatform(Platform):
    # persons added here, by place: "town_a", "town_b", "xiaodian"
    extra: dict[str, list[int]] | None = None


def _add_persons(url: str, place: str, county: str, township: str | None, count: int, first: int) -> list[int]:
    """Poverty-alleviated persons working in Shenzhen since March 2024: the transport subsidy, today."""
    engine = make_engine(url)
    ids = []
    try:
        with Session(engine) as session, session.begin():
            for n in range(count):
                serial = first + n
                household = Household(household_number=f"C{serial:05d}", region_code=county, address=f"{place} 村")
                session.add(household)
                session.flush()
                person = Person(
                    id_number=id_number(county, serial, dt.date(1980, 1 + n % 12, 1 + n % 28)),
                    name=f"申报{place}{n:02d}",
                    hukou_region=county,
                    residence_region=county,
                    township_code=township,
                    household_id=household.id,
                    labor_capacity="ordinary",
                )
                session.add(person)
                session.flush()
                session.add(
                    PersonCategory(person_id=person.id, category="poverty_alleviated", start_date=dt.date(2016, 1, 1))
                )
                session.add(
                    EmploymentSpell(
                        person_id=person.id,
                        employer_name="深圳某电子厂",
                        work_region="440305",
                        start_date=dt.date(2024, 3, 1),
                        organized_export=False,
                        travel_cost_fen=95_000,
                    )
                )
                ids.append(int(person.id))
    finally:
        engine.dispose()
    return ids


def claims_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(tmp_path_factory.mktemp('claims') / 'bangfu.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    try:
        persons, organizations = build_registry(url)
        extra = {
            "town_a": _add_persons(url, "town_a", XING, TOWN_A, 30, 200),
            "town_b": _add_persons(url, "town_b", XING, TOWN_B, 3, 300),
            "xiaodian": _add_persons(url, "xiaodian", XIAODIAN, None, 3, 400),
        }
        app = create_app(settings_for(url), checks_dir=tmp_path_factory.mktemp("checks"))
        with TestClient(app, base_url="http://testserver") as client:
            yield ClaimsPlatform(url, client, persons, organizations, {}, extra)
        app.state.context.close()
    finally:
        if hasattr(databases, "close"):
            databases.close()


def drafted(
    url: str, person_id: int, maker: str, *, amount_fen: int | None = None, document: str = "shanxi-2026"
) -> int:
    """A claim of the transport subsidy drafted today by ``maker`` and auto-checked (flagged when the
    amount differs from the engine's)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            claim_id = draft_claim(
                connection, POLICIES, entity="person", key=person_id, benefit_id=TRANSPORT, document_id=document,
                day=dt.date.today(), actor=maker, amount_fen=amount_fen,
            )  # fmt: skip
            decisions.check_claim(connection, POLICIES, claim_id, Actor(maker))
        return claim_id
    finally:
        engine.dispose()


def claim_row(url: str, claim_id: int) -> Any:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()
    finally:
        engine.dispose()


def event_count(url: str, claim_id: int) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).where(EVENTS.c.claim_id == claim_id)) or 0)
    finally:
        engine.dispose()


def audit_of(url: str, claim_id: int, action: str) -> list[tuple[str, dict[str, Any]]]:
    """(actor, after) of the claim's audit entries of ``action`` (claim.approved …)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(LOG.c.actor, LOG.c.after)
                .where(LOG.c.target_type == "claim", LOG.c.target_id == str(claim_id), LOG.c.action == action)
                .order_by(LOG.c.id)
            ).all()
    finally:
        engine.dispose()
    return [(actor, json.loads(after) if isinstance(after, str) else after) for actor, after in rows]


def id_number_of(url: str, person_id: int) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.scalar(select(Person.id_number).where(Person.id == person_id)))
    finally:
        engine.dispose()
