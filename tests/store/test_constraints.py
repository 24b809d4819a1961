"""The database itself refuses bad rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import store_support as support
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bangfu.store.tables import (
    BenefitLedgerEntry,
    EmploymentSpell,
    OrganizationRecognition,
    Person,
    PersonCategory,
    PersonIdentityError,
    TrainingRecord,
)

JAN_1 = dt.date(2024, 1, 1)
DEC_31 = dt.date(2023, 12, 31)
# SQLite names a CHECK constraint in its message, but not a UNIQUE or FOREIGN KEY one.
FOREIGN_KEY = r"fk_\w+|FOREIGN KEY constraint failed"


def unique(table: str, column: str) -> str:
    return rf"uq_{table}_{column}|UNIQUE constraint failed: {table}\.{column}"


def rejected(session: Session, *rows: object, by: str) -> None:
    """Adding ``rows`` fails in the database on constraint ``by``; the session stays usable afterwards."""
    with pytest.raises(IntegrityError, match=by), session.begin_nested():
        session.add_all(rows)
        session.flush()


def saved(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def saved_person(session: Session, **overrides: object) -> Person:
    person = support.person(**overrides)
    saved(session, person)
    return person


def test_duplicate_id_number_also_after_normalization(session: Session) -> None:
    first = saved_person(session)
    rejected(session, support.person(id_number=first.id_number), by=unique("persons", "id_number"))
    # The same number typed with full-width digits and spaces is still the same person.
    typed = " ".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in first.id_number)
    rejected(session, support.person(id_number=typed), by=unique("persons", "id_number"))
    assert session.scalars(select(Person.id_number).where(Person.id == first.id)).all() == [first.id_number]


def test_lower_case_x_is_stored_upper_case(session: Session) -> None:
    person = saved_person(session, id_number="11010519491231002x")
    assert person.id_number == "11010519491231002X"


def test_birth_date_and_sex_come_from_the_id_number(session: Session) -> None:
    person = saved_person(session, id_number=support.id_number(born=dt.date(1979, 2, 28), male=False))
    assert (person.birth_date, person.sex) == (dt.date(1979, 2, 28), "female")


def test_birth_date_or_sex_contradicting_the_id_number_is_refused(session: Session) -> None:
    number = support.id_number(born=dt.date(1979, 2, 28))
    with pytest.raises(PersonIdentityError, match="出生日期为 1979-02-28"), session.begin_nested():
        saved(session, support.person(id_number=number, birth_date=dt.date(1979, 3, 1)))
    with pytest.raises(PersonIdentityError, match="性别为男"), session.begin_nested():
        saved(session, support.person(id_number=number, sex="female"))


def test_invalid_id_number_is_refused_and_shown_masked(session: Session) -> None:
    with pytest.raises(PersonIdentityError, match=r"1101\*{12}25 无效：校验位错误"), session.begin_nested():
        saved(session, support.person(id_number="110105194912310025"))


def test_foreign_keys_are_enforced(session: Session) -> None:
    # On SQLite this holds only with PRAGMA foreign_keys=ON on every connection.
    rejected(session, support.person(hukou_region="149999"), by=FOREIGN_KEY)
    rejected(session, support.household(region_code="999999"), by=FOREIGN_KEY)


def test_end_before_start(session: Session) -> None:
    person = saved_person(session)
    org = support.organization()
    saved(session, org)
    spell = {"person_id": person.id, "employer_name": "深圳某电子厂", "work_region": "440305", "start_date": JAN_1}
    rejected(session, EmploymentSpell(**spell, end_date=DEC_31), by="ck_employment_spells_end_not_before_start")
    rejected(
        session,
        PersonCategory(person_id=person.id, category="monitored", start_date=JAN_1, end_date=DEC_31),
        by="ck_person_categories_end_not_before_start",
    )
    rejected(
        session,
        OrganizationRecognition(org_id=org.id, recognition="workshop", start_date=JAN_1, end_date=DEC_31),
        by="ck_organization_recognitions_end_not_before_start",
    )
    saved(session, EmploymentSpell(**spell, end_date=JAN_1))  # a one-day spell is fine


def test_ledger_names_exactly_one_beneficiary(session: Session) -> None:
    person = saved_person(session)
    org = support.organization()
    saved(session, org)
    entry = {"benefit_id": "transport_cross_province", "date": JAN_1, "amount_fen": 80_000, "source": "测试"}
    both = BenefitLedgerEntry(person_id=person.id, org_id=org.id, **entry)
    rejected(session, both, by="ck_benefit_ledger_one_beneficiary")
    rejected(session, BenefitLedgerEntry(**entry), by="ck_benefit_ledger_one_beneficiary")
    saved(session, BenefitLedgerEntry(person_id=person.id, **entry))
    saved(session, BenefitLedgerEntry(org_id=org.id, **entry))


def test_money_beyond_32_bits(session: Session) -> None:
    # 300 million yuan in fen does not fit a 32-bit integer; a province's yearly fund is that large.
    org = support.organization()
    saved(session, org)
    entry = BenefitLedgerEntry(org_id=org.id, benefit_id="x", date=JAN_1, amount_fen=30_000_000_000, source="测试")
    saved(session, entry)
    session.expire(entry)
    assert entry.amount_fen == 30_000_000_000


BAD_CHILD_ROWS: dict[str, Callable[[int], object]] = {
    "ck_training_records_days_positive": lambda p: TrainingRecord(
        person_id=p, provider="县职业学校", programme="电焊", start_date=JAN_1, days=0
    ),
    "ck_person_categories_category": lambda p: PersonCategory(person_id=p, category="poor", start_date=JAN_1),
    "ck_person_categories_site_only_if_relocated": lambda p: PersonCategory(
        person_id=p, category="poverty_alleviated", start_date=JAN_1, relocation_site_code="141123"
    ),
    "ck_employment_spells_work_region_length": lambda p: EmploymentSpell(
        person_id=p, employer_name="某厂", work_region="1411", start_date=JAN_1
    ),
    "ck_employment_spells_travel_cost_not_negative": lambda p: EmploymentSpell(
        person_id=p, employer_name="某厂", work_region="440305", start_date=JAN_1, travel_cost_fen=-1
    ),
}


@pytest.mark.parametrize("constraint", BAD_CHILD_ROWS)
def test_check_constraints(session: Session, constraint: str) -> None:
    person = saved_person(session)
    rejected(session, BAD_CHILD_ROWS[constraint](person.id), by=constraint)


def test_category_periods_are_unique_per_start(session: Session) -> None:
    person = saved_person(session)
    saved(session, PersonCategory(person_id=person.id, category="poverty_alleviated", start_date=JAN_1))
    rejected(
        session,
        PersonCategory(person_id=person.id, category="poverty_alleviated", start_date=JAN_1),
        by=r"uq_person_categories_person_id_category_start_date|UNIQUE constraint failed: person_categories\.",
    )
    saved(
        session,
        PersonCategory(person_id=person.id, category="relocated", start_date=JAN_1, relocation_site_code="141123"),
    )
