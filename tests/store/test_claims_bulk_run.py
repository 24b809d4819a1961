"""The monthly run's set-based pre-selection (ADR 0037): the population engine picks who is granted a
paid benefit, and the run then drafts exactly what the case-by-case run drafts, once."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from claim_gate_support import add_organization
from claims_support import MAKER, POLICIES, add_person
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bangfu.claims import decisions
from bangfu.claims.drafting import granted_beneficiaries, monthly_run
from bangfu.claims.records import CLAIMS, KEYS
from bangfu.store.tables import Person

PERSONS = Person.__table__


def drafts(engine: Engine, region: str) -> list[tuple[Any, ...]]:
    """What was drafted in ``region``, in the order of the beneficiaries, without ids or times."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(CLAIMS).where(CLAIMS.c.region_code == region).order_by(CLAIMS.c.person_id, CLAIMS.c.benefit_id)
        ).all()
        firsts = {r.person_id for r in rows}
        order = {p: n for n, p in enumerate(sorted(p for p in firsts if p is not None))}
        return [
            (
                order.get(r.person_id),
                r.benefit_id,
                r.amount_fen,
                r.units,
                r.money_key.split("|")[0],
                r.money_key.rsplit("#", 1)[-1] if "#" in r.money_key else r.repeat_per,
                r.status,
                r.flagged,
                json.loads(r.explanation)["amount_fen"],
                r.parameters,
                r.document_version,
                json.loads(r.check_results),
            )
            for r in rows
        ]


def _population(engine: Engine, county: str) -> list[int]:
    people = [add_person(engine, county=county), add_person(engine, county=county, training_days=25)]
    unqualified = add_person(engine, county=county)
    with engine.begin() as connection:  # no longer a poverty-alleviated person: nothing to draft
        connection.exec_driver_sql(f"DELETE FROM person_categories WHERE person_id = {unqualified}")
        # a planted death: drafted after it, the claims are flagged by the same rule on either path
        connection.execute(
            update(PERSONS).where(PERSONS.c.id == people[1]).values(died_on=dt.date(2024, 5, 1), death_source="民政")
        )
    return [*people, unqualified]


def test_the_bulk_selection_drafts_what_the_case_by_case_run_drafts(module_database: Engine) -> None:
    before, after = "141129", "141130"  # counties no other test of this module uses
    one = _population(module_database, before)
    two = _population(module_database, after)
    add_organization(module_database, county=after)

    def check(connection: object, claim_id: int) -> None:
        decisions.check_claim(connection, POLICIES, claim_id, MAKER)  # type: ignore[arg-type]

    granted = granted_beneficiaries(module_database, POLICIES, monthly_day())
    assert {one[0], one[1], two[0], two[1]} <= granted["person"]
    assert one[2] not in granted["person"] and two[2] not in granted["person"]

    slow = monthly_run(
        module_database, POLICIES, "2024-06", actor=MAKER.name, region=before, after_draft=check, prefilter=False
    )
    # checked from the answer drafted from, not evaluated again: the same findings as the per-claim check
    fast = monthly_run(module_database, POLICIES, "2024-06", actor=MAKER.name, region=after, checker=MAKER)
    assert len(fast.drafted) == len(slow.drafted) == 4 and fast.refused == slow.refused == []
    assert fast.cases == slow.cases + 1  # the organization counts as evaluated
    assert drafts(module_database, after) == drafts(module_database, before)
    assert {r[6] for r in drafts(module_database, after)} == {"checked"}
    assert all(len(r[-1]) == 10 for r in drafts(module_database, after))  # every rule reported
    flagged = [r for r in drafts(module_database, after) if r[7]]
    assert [r[0] for r in flagged] == [1, 1]  # the dead person's two claims
    assert {f["rule"] for r in flagged for f in r[-1] if not f["passed"]} == {"deceased"}

    again = monthly_run(module_database, POLICIES, "2024-06", actor=MAKER.name, region=after)
    assert (again.drafted, again.duplicates) == ([], 4)


def monthly_day() -> Any:
    from bangfu.claims.drafting import month_end

    return month_end("2024-06")


def test_a_repeat_across_counties_is_still_refused_by_the_constraint(module_database: Engine) -> None:
    person = add_person(module_database, county="141128")
    ran = monthly_run(module_database, POLICIES, "2024-06", actor=MAKER.name, region="141128")
    assert len(ran.drafted) == 2
    with module_database.begin() as connection:  # the person moves: another county's run finds them
        connection.execute(update(PERSONS).where(PERSONS.c.id == person).values(hukou_region="141181"))
    moved = monthly_run(module_database, POLICIES, "2024-06", actor=MAKER.name, region="141181")
    assert (moved.drafted, moved.duplicates) == ([], 2)
    with module_database.connect() as connection:
        held = connection.execute(
            select(KEYS.c.money_key).join(CLAIMS, CLAIMS.c.id == KEYS.c.claim_id).where(CLAIMS.c.person_id == person)
        ).scalars()
        key = next(iter(held))
        count = connection.scalar(select(func.count()).select_from(CLAIMS).where(CLAIMS.c.person_id == person))
    assert count == 2
    with pytest.raises(IntegrityError), module_database.begin() as connection:
        connection.execute(insert(KEYS).values(claim_id=ran.drafted[0], money_key=key, live=True))
