"""The typed records an import produces, one named tuple per kind; codes and fen, never labels or yuan.

``line`` is the row's line in the source file, so that a later stage (the database import) can
still point county staff at the row it refers to.

Named tuples rather than frozen dataclasses: a million-row import builds each record twice (in the
reading worker, and again from the pipe in the importer), and a frozen dataclass's ``__init__`` sets
each field through ``object.__setattr__``, eight times slower than building a tuple (20 vs 2.3 µs a
national row), which was a tenth of the import. Records are immutable either way.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple


class NationalFacts(NamedTuple):
    """What a row of the national monitoring system's person table adds to a person (see
    ``headers.NATIONAL_PEOPLE``): the household and its head, person facts and the year's work."""

    person_number: str
    township_code: str
    relation_to_head: str
    head_name: str
    head_id_number: str
    household_phone: str | None
    risk_removed: bool | None
    education: str | None
    schooling: str | None
    health: str | None
    disability: str | None
    minimum_living_allowance: bool | None
    extreme_poverty_support: bool | None
    year: int
    work_months: int | None
    work_place: str | None
    employer_name: str | None
    employment_channel: str | None
    welfare_post_type: str | None
    welfare_post_months: int | None
    # The row's columns Bangfu does not use, as JSON {label: cell} (None when all are empty)
    original_record: str | None


class PersonRecord(NamedTuple):
    line: int
    name: str
    id_number: str
    hukou_region: str
    categories: tuple[str, ...]
    labor_capacity: str
    phone: str | None
    sex: str
    birth_date: date
    household_number: str | None
    national: NationalFacts | None = None


class HouseholdRecord(NamedTuple):
    line: int
    household_number: str
    head_name: str
    head_id_number: str
    hukou_region: str
    member_count: int | None
    categories: tuple[str, ...]
    phone: str | None


class OrganizationRecord(NamedTuple):
    line: int
    name: str
    credit_code: str | None
    kind: str
    region: str
    contact_name: str | None
    phone: str | None
    recognized_base: bool | None
    operating_since: date | None


class EmploymentRecord(NamedTuple):
    line: int
    id_number: str
    employer: str
    work_region: str
    start_date: date
    end_date: date | None
    organized_export: bool | None
    travel_cost_fen: int | None
    job: str | None
    monthly_income_fen: int | None


class TrainingRecord(NamedTuple):
    line: int
    id_number: str
    provider: str
    program: str
    start_date: date
    days: int
    certificate: str | None


Record = PersonRecord | HouseholdRecord | OrganizationRecord | EmploymentRecord | TrainingRecord
