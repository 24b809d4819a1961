"""Read models of the registry for pages and the API: search, detail and audited unmasking, always scoped.

Every function takes the reader's ``Scope`` and filters in SQL; there is no unscoped variant. A person
or organization outside the scope is answered exactly like a missing one (None, or an empty page), so
a reader cannot learn that it exists. ID numbers and phones are masked everywhere but in
``unmask_person``, which needs the permission and writes an audit entry.

Built for 3.3 million persons on PostgreSQL: an ID number is found through the unique index on
``persons.id_number``, a name fragment or pinyin initials in a county through the name index
(``registry.name_search``, ADR 0025), a county's list in any sort through ``ix_persons_people_list``,
and the scope's conditions (see ``access.scope``) stay index-friendly. A region may be named (蔚汾镇).
Blank text parameters (an empty form field) count as not given.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, Table, and_, exists, func, or_, select

from bangfu.access.scope import Scope, UnknownRegionError
from bangfu.audit.log import record
from bangfu.core import citizen_id, region_names, regions
from bangfu.core.categories import facts_for, members
from bangfu.core.disclosure import masked_id_number, masked_phone, shown_birth_year
from bangfu.core.name_keys import NameQueryError
from bangfu.core.region_names import RegionNameError
from bangfu.core.vocabulary import (
    CATEGORIES,
    CATEGORY_LABELS,
    KIND_LABELS,
    ORGANIZATION_KINDS,
    RECOGNITION_LABELS,
    WORK_SITUATIONS,
    WORKING_CAPACITIES,
)
from bangfu.policy.model import FUNDS
from bangfu.policy.policy_set import PolicySet
from bangfu.registry.imports.upsert.base import table_of
from bangfu.registry.name_search import name_condition
from bangfu.store.tables import (
    DECLARED_COUNTS,
    BenefitLedgerEntry,
    EmploymentSpell,
    Household,
    Organization,
    OrganizationRecognition,
    Person,
    PersonCategory,
    TrainingRecord,
)

T = TypeVar("T")

MAX_PER_PAGE = 100

PERSONS = table_of(Person)
HOUSEHOLDS = table_of(Household)
CATEGORY_ROWS = table_of(PersonCategory)
SPELLS = table_of(EmploymentSpell)
TRAINING = table_of(TrainingRecord)
LEDGER = table_of(BenefitLedgerEntry)
ORGANIZATIONS = table_of(Organization)
RECOGNITIONS = table_of(OrganizationRecognition)


class QueryError(ValueError):
    """A search parameter that cannot be used; the message names it and says what it should be.

    The message is for people, in words only (pages show it as it is); ``field`` is the parameter's
    name, so that a page can show the message beside its field, and ``choices`` the codes it takes, for
    API clients (a page offers them as a list of labels)."""

    def __init__(self, message: str, field: str | None = None, choices: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.field = field
        self.choices = list(choices)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results; ``pages`` is 0 when nothing matched."""

    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int


@dataclass(frozen=True)
class PersonSummary:
    id: int
    name: str
    id_number_masked: str
    sex: str
    birth_year: int  # never the date: see core.disclosure
    hukou_region: str
    hukou_region_name: str
    township_code: str | None
    township_name: str | None
    categories: list[str]  # codes held today, in vocabulary order
    labor_capacity: str | None
    phone_masked: str | None


@dataclass(frozen=True)
class HouseholdMember:
    person_id: int
    name: str
    id_number_masked: str


@dataclass(frozen=True)
class HouseholdView:
    id: int
    number: str
    address: str
    head_name: str | None
    head_id_number_masked: str | None
    members: list[HouseholdMember]  # the registered members the reader may see


@dataclass(frozen=True)
class Period:
    """A category or recognition held over a period."""

    code: str
    label: str
    start_date: dt.date
    end_date: dt.date | None
    held_today: bool


@dataclass(frozen=True)
class EmploymentView:
    employer_name: str
    employer_org_id: int | None  # the registered organization, when the import could match it
    # Whether the reader may open that organization (it lies in the reader's scope): a page links it then.
    employer_in_scope: bool
    work_region: str
    work_region_name: str | None
    start_date: dt.date
    end_date: dt.date | None
    organized_export: bool | None
    labour_contract: bool | None
    social_insurance: bool | None
    job: str | None
    monthly_income_fen: int | None
    travel_cost_fen: int | None


@dataclass(frozen=True)
class TrainingView:
    provider: str
    programme: str
    start_date: dt.date
    days: int
    certificate: str | None


@dataclass(frozen=True)
class LedgerView:
    id: int
    benefit_id: str
    benefit_label: str | None  # None for a benefit the bundled policy does not define
    fund: str | None
    fund_label: str | None
    date: dt.date
    amount_fen: int
    source: str


@dataclass(frozen=True)
class PersonDetail:
    """A person with household, categories and histories (newest first); identifiers masked."""

    summary: PersonSummary
    household: HouseholdView | None
    categories: list[Period]
    employment: list[EmploymentView]
    training: list[TrainingView]
    ledger: list[LedgerView]


@dataclass(frozen=True)
class OrganizationSummary:
    id: int
    credit_code: str
    name: str
    kind: str
    kind_label: str
    region_code: str
    region_name: str
    contact_name: str | None
    phone_masked: str | None


@dataclass(frozen=True)
class OrganizationDetail:
    summary: OrganizationSummary
    recognitions: list[Period]
    # As declared by the organization; None is unknown, not zero.
    declared: dict[str, int | None]
    operating_since: dt.date | None
    employees_registered: int  # distinct persons with an employment spell at it, ever
    employees_today: int  # of whom in work there today
    ledger: list[LedgerView]
    # A declared count of absorbed people (ABSORBED) → the registered workers in post today of that category.
    registered_today: dict[str, int] = field(default_factory=dict)


# The declared counts that registered workers can be counted against: the column → the category it counts.
ABSORBED = {"absorbed_poverty_alleviated": "poverty_alleviated", "absorbed_edge_of_poverty": "edge_of_poverty"}


# --- parameters ------------------------------------------------------------------------------


def _given(value: str | None) -> str | None:
    """Trimmed text, or None for a blank field."""
    if value is None:
        return None
    return value.strip() or None


def check_paging(page: int, per_page: int) -> None:
    if page < 1:
        raise QueryError(f"页码应为从 1 开始的整数，实为 {page}", "page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"每页条数应在 1 到 {MAX_PER_PAGE} 之间，实为 {per_page}", "per_page")


def narrowed(scope: Scope, region: str | None) -> Scope | None:
    """The scope limited to ``region`` (a code or a name, see ``core.region_names``): None when they do
    not meet; QueryError when it is no region, or a name several regions share."""
    text = _given(region)
    if text is None:
        return scope
    try:
        return scope.within(region_names.resolve(text))
    except RegionNameError as exc:
        raise QueryError(f"地区：{exc}", "region") from exc
    except UnknownRegionError as exc:
        raise QueryError(f"地区：{exc}", "region") from exc


def _held(table: Any, today: dt.date) -> ColumnElement[bool]:
    return and_(table.c.start_date <= today, or_(table.c.end_date.is_(None), table.c.end_date >= today))


def _paged(
    connection: Connection,
    table: Table,
    query: Select[Any],
    conditions: Sequence[ColumnElement[bool]],
    page: int,
    per_page: int,
) -> tuple[int, list[Any]]:
    """(exact total, rows of the page) of ``query`` on ``table`` filtered by ``conditions``."""
    total = int(connection.scalar(select(func.count()).select_from(table).where(*conditions)) or 0)
    offset = (page - 1) * per_page
    if offset >= total:
        return total, []
    return total, list(connection.execute(query.where(*conditions).limit(per_page).offset(offset)).all())


def page_of(items: list[T], total: int, page: int, per_page: int) -> Page[T]:
    return Page(items, total, page, per_page, math.ceil(total / per_page))


def _place_name(code: str) -> str | None:
    """Full name of a work place, as far as the bundled divisions go; None for an unknown province."""
    return regions.full_name(code) if regions.province_of(code) in regions.provinces() else None


# --- persons ---------------------------------------------------------------------------------

_SUMMARY_COLUMNS = (
    PERSONS.c.id,
    PERSONS.c.name,
    PERSONS.c.id_number,
    PERSONS.c.sex,
    PERSONS.c.birth_date,
    PERSONS.c.hukou_region,
    PERSONS.c.township_code,
    PERSONS.c.labor_capacity,
    PERSONS.c.phone,
)


def _categories_held(day: dt.date) -> Any:
    """The codes a person holds on ``day``, comma-joined, as a column of the person's own row (one round
    trip for a page of persons instead of a second query)."""
    return (
        select(func.aggregate_strings(CATEGORY_ROWS.c.category, ","))
        .where(CATEGORY_ROWS.c.person_id == PERSONS.c.id, _held(CATEGORY_ROWS, day))
        .scalar_subquery()
        .label("categories_held")
    )


def _in_vocabulary_order(joined: str | None) -> list[str]:
    held = set(joined.split(",")) if joined else set()
    return [c for c in CATEGORIES if c in held]


def _summary(row: Any, categories: list[str]) -> PersonSummary:
    township = row.township_code
    return PersonSummary(
        id=row.id,
        name=row.name,
        id_number_masked=masked_id_number(row.id_number),
        sex=row.sex,
        birth_year=shown_birth_year(row.birth_date),
        hukou_region=row.hukou_region,
        hukou_region_name=regions.full_name(row.hukou_region),
        township_code=township,
        township_name=regions.name_of(township) if township else None,
        categories=categories,
        labor_capacity=row.labor_capacity,
        phone_masked=masked_phone(row.phone),
    )


# Column sorts of the people list: the key's columns, ascending; "-key" reverses them all. A name sorts
# by its pinyin (persons.name_sort), then by the name itself; the id keeps pages stable. Birth is sorted
# by year only, like it is shown: a finer order would tell the masked birth dates apart.
_BY_NAME = (PERSONS.c.name_sort, PERSONS.c.name, PERSONS.c.id)
PEOPLE_SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "name": ("姓名（拼音）", _BY_NAME),
    "region": (
        "户籍地",
        (PERSONS.c.hukou_region, func.coalesce(PERSONS.c.township_code, ""), *_BY_NAME),
    ),
    "birth_year": ("出生年份", (func.extract("year", PERSONS.c.birth_date), *_BY_NAME)),
}


def _people_order(sort: str | None) -> list[Any]:
    key = _given(sort) or "name"
    columns = PEOPLE_SORTS.get(key.removeprefix("-"))
    if columns is None:
        choices = "、".join(label for label, _ in PEOPLE_SORTS.values())
        raise QueryError(f"排序方式“{key}”无效，可按{choices}排序（正序或倒序）", "sort", list(PEOPLE_SORTS))
    return [column.desc() for column in columns[1]] if key.startswith("-") else list(columns[1])


@dataclass(frozen=True)
class PeopleFilters:
    """What a people search asks for; blank text counts as not given. The list and the export share it."""

    id_number: str | None = None
    name: str | None = None
    region: str | None = None
    category: str | None = None
    work: str | None = None  # a WORK_SITUATIONS key
    village: str | None = None  # 村 as the imported row named it (persons.original_record)


# The columns of an imported row that name the village (kept in persons.original_record as JSON).
VILLAGE_HEADERS = ("村", "行政村")
SHANXI = "14"


def work_condition(situation: str, day: dt.date) -> ColumnElement[bool]:
    """Persons in ``situation`` on ``day``, exactly as ``reports.dashboard`` counts them."""
    place = SPELLS.c.work_region
    held = and_(SPELLS.c.person_id == PERSONS.c.id, _held(SPELLS, day))
    at_home = func.substr(place, 1, 6) == PERSONS.c.hukou_region
    in_shanxi = func.substr(place, 1, 2) == SHANXI
    where = {
        "cross_province": ~in_shanxi,
        "in_province": and_(in_shanxi, ~at_home),
        "in_county": at_home,
        "organized_export": SPELLS.c.organized_export.is_(True),
    }
    if situation == "not_working":
        return and_(~exists().where(held), PERSONS.c.labor_capacity.in_(WORKING_CAPACITIES))
    return exists().where(held, where[situation])


def village_condition(village: str) -> ColumnElement[bool]:
    """Persons whose imported row names ``village``: the JSON pair as the importers write it (compact)."""
    value = json.dumps(village, ensure_ascii=False)
    return or_(
        *(
            PERSONS.c.original_record.contains(f"{json.dumps(h, ensure_ascii=False)}:{value}", autoescape=True)
            for h in VILLAGE_HEADERS
        )
    )


def people_conditions(
    scope: Scope, filters: PeopleFilters, day: dt.date
) -> tuple[list[ColumnElement[bool]], str | None] | None:
    """(SQL conditions on ``persons``, the checked ID number asked for) of ``filters`` inside ``scope``;
    None when the region asked for lies outside it. QueryError, naming the field, for unusable input."""
    area = narrowed(scope, filters.region)
    if area is None:
        return None
    conditions: list[ColumnElement[bool]] = [area.persons(PERSONS)]
    if area.level == "township":
        # Implied (a township lies in its county, and imports place it so), and it bounds the range of
        # ix_persons_people_list that a sort reads: without it PostgreSQL walks the whole index.
        conditions.append(area.counties(PERSONS.c.hukou_region))
    checked_id = None
    if (number := _given(filters.id_number)) is not None:
        checked = citizen_id.check(number, day)
        if not checked.valid:
            raise QueryError(f"身份证号 {masked_id_number(checked.id)} 无效：{checked.reason}", "id_number")
        checked_id = checked.id
        conditions.append(PERSONS.c.id_number == checked.id)
    if (wanted := _given(filters.name)) is not None:
        try:
            conditions.append(name_condition(area, wanted))
        except NameQueryError as exc:
            raise QueryError(f"姓名：{exc}", "name") from exc
    if (code := _given(filters.category)) is not None:
        if code not in CATEGORIES:
            choices = "、".join(CATEGORY_LABELS[c] for c in CATEGORIES)
            raise QueryError(f"人员类别“{code}”无效，可选：{choices}", "category", CATEGORIES)
        conditions.append(_in_category(code, day))
    if (situation := _given(filters.work)) is not None:
        if situation not in WORK_SITUATIONS:
            choices = "、".join(WORK_SITUATIONS.values())
            raise QueryError(f"务工情况“{situation}”无效，可选：{choices}", "work", list(WORK_SITUATIONS))
        conditions.append(work_condition(situation, day))
    if (village := _given(filters.village)) is not None:
        conditions.append(village_condition(village))
    return conditions, checked_id


def _in_category(code: str, day: dt.date) -> ColumnElement[bool]:
    """A row of ``persons`` holding category ``code`` on ``day``. A category counts its kinds too (农村低收入
    人口 includes 防返贫监测对象 and its three kinds, and those with 低保 or 特困): the one hierarchy the
    rules also use (core/categories.py)."""
    held_kind = exists().where(
        CATEGORY_ROWS.c.person_id == PERSONS.c.id,
        CATEGORY_ROWS.c.category.in_(members(code)),
        _held(CATEGORY_ROWS, day),
    )
    by_fact = [PERSONS.c[fact].is_(True) for fact in facts_for(code)]
    return or_(held_kind, *by_fact)


def search_people(
    connection: Connection,
    scope: Scope,
    *,
    id_number: str | None = None,
    name: str | None = None,
    region: str | None = None,
    category: str | None = None,
    sort: str | None = None,
    page: int = 1,
    per_page: int = 20,
    today: dt.date | None = None,
    searched_by: Reader | None = None,
    work: str | None = None,
    village: str | None = None,
) -> Page[PersonSummary]:
    """Persons in ``scope`` matching every given filter, in ``sort`` order (``PEOPLE_SORTS``, by name's
    pinyin by default). An ID number matches exactly; a name by any fragment or by pinyin initials; a
    region by code or name.

    With ``searched_by``, a lookup by ID number is written to the audit log in the caller's transaction.
    """
    day = today or dt.date.today()
    check_paging(page, per_page)
    order = _people_order(sort)
    found = people_conditions(scope, PeopleFilters(id_number, name, region, category, work, village), day)
    if found is None:
        return page_of([], 0, page, per_page)
    conditions, number = found
    query = select(*_SUMMARY_COLUMNS, _categories_held(day)).order_by(*order)
    if number is not None:
        # An ID number is unique: the page is the count, and one indexed lookup answers it all.
        rows = list(connection.execute(query.where(*conditions).limit(1)).all()) if page == 1 else []
        total = len(rows) if page == 1 else int(connection.scalar(select(func.count()).where(*conditions)) or 0)
        if searched_by is not None:
            _record_lookup(connection, searched_by, number, rows)
    else:
        total, rows = _people_page(connection, query, conditions, order, page, per_page)
    return page_of([_summary(row, _in_vocabulary_order(row.categories_held)) for row in rows], total, page, per_page)


def _people_page(
    connection: Connection,
    query: Select[Any],
    conditions: list[ColumnElement[bool]],
    order: list[Any],
    page: int,
    per_page: int,
) -> tuple[int, list[Any]]:
    """(total, rows of the page), the page chosen by ids first: the sort then reads only the columns of
    ``ix_persons_people_list`` (an index-only scan of a county) and the table only for the page's rows."""
    total = int(connection.scalar(select(func.count()).select_from(PERSONS).where(*conditions)) or 0)
    offset = (page - 1) * per_page
    if offset >= total:
        return total, []
    chosen = select(PERSONS.c.id).where(*conditions).order_by(*order).limit(per_page).offset(offset)
    return total, list(connection.execute(query.where(PERSONS.c.id.in_(chosen.scalar_subquery()))).all())


@dataclass(frozen=True)
class Reader:
    """Who reads, for the audit log: the account's user name and the client's address."""

    actor: str
    address: str | None


def _record_lookup(connection: Connection, reader: Reader, id_number: str, rows: list[Any]) -> None:
    """A lookup by full ID number answers "is this the number?" — an oracle for the masked digits
    (core.disclosure) — so each one is on the audit log, hit or miss, with the number masked."""
    record(
        connection,
        actor=reader.actor,
        action="person.lookup",
        target_type="person" if rows else None,
        target_id=rows[0].id if rows else None,
        region_code=rows[0].hukou_region if rows else None,
        after={"id_number": masked_id_number(id_number), "found": len(rows)},
        address=reader.address,
    )


def _scoped_person(connection: Connection, scope: Scope, person_id: int, *columns: Any) -> Any:
    return connection.execute(select(*columns).where(PERSONS.c.id == person_id, scope.persons(PERSONS))).first()


def _household(connection: Connection, scope: Scope, household_id: int | None) -> HouseholdView | None:
    if household_id is None:
        return None
    row = connection.execute(select(HOUSEHOLDS).where(HOUSEHOLDS.c.id == household_id)).first()
    if row is None:
        return None
    members = connection.execute(
        select(PERSONS.c.id, PERSONS.c.name, PERSONS.c.id_number)
        .where(PERSONS.c.household_id == household_id, scope.persons(PERSONS))
        .order_by(PERSONS.c.id)
    )
    return HouseholdView(
        id=row.id,
        number=row.household_number,
        address=row.address,
        head_name=row.head_name,
        head_id_number_masked=masked_id_number(row.head_id_number) if row.head_id_number else None,
        members=[HouseholdMember(m.id, m.name, masked_id_number(m.id_number)) for m in members],
    )


def _periods(rows: Iterable[Any], code: str, labels: dict[str, str], today: dt.date) -> list[Period]:
    return [
        Period(
            code=getattr(row, code),
            label=labels.get(getattr(row, code), getattr(row, code)),
            start_date=row.start_date,
            end_date=row.end_date,
            held_today=row.start_date <= today and (row.end_date is None or row.end_date >= today),
        )
        for row in rows
    ]


def _ledger(connection: Connection, owner: ColumnElement[bool], policies: PolicySet) -> list[LedgerView]:
    rows = connection.execute(select(LEDGER).where(owner).order_by(LEDGER.c.date.desc(), LEDGER.c.id.desc()))
    views = []
    for row in rows:
        benefit = policies.benefit(row.benefit_id)
        fund = benefit.fund if benefit else None
        views.append(
            LedgerView(
                id=row.id,
                benefit_id=row.benefit_id,
                benefit_label=benefit.label if benefit else None,
                fund=fund,
                fund_label=FUNDS.get(fund) if fund else None,
                date=row.date,
                amount_fen=row.amount_fen,
                source=row.source,
            )
        )
    return views


def person_detail(
    connection: Connection, scope: Scope, person_id: int, policies: PolicySet, today: dt.date | None = None
) -> PersonDetail | None:
    """One person with everything registered about them; None when missing or outside ``scope``.

    ``policies`` names the benefits and funds of the ledger's entries."""
    day = today or dt.date.today()
    row = _scoped_person(connection, scope, person_id, *_SUMMARY_COLUMNS, _categories_held(day), PERSONS.c.household_id)
    if row is None:
        return None
    summary = _summary(row, _in_vocabulary_order(row.categories_held))
    categories = connection.execute(
        select(CATEGORY_ROWS.c.category, CATEGORY_ROWS.c.start_date, CATEGORY_ROWS.c.end_date)
        .where(CATEGORY_ROWS.c.person_id == person_id)
        .order_by(CATEGORY_ROWS.c.start_date.desc(), CATEGORY_ROWS.c.category)
    )
    spells = connection.execute(
        select(SPELLS).where(SPELLS.c.person_id == person_id).order_by(SPELLS.c.start_date.desc(), SPELLS.c.id.desc())
    ).all()
    employers = {s.employer_org_id for s in spells if s.employer_org_id is not None}
    openable = set(
        connection.scalars(
            select(ORGANIZATIONS.c.id).where(ORGANIZATIONS.c.id.in_(employers), scope.organizations(ORGANIZATIONS))
        )
        if employers
        else ()
    )
    training = connection.execute(
        select(TRAINING)
        .where(TRAINING.c.person_id == person_id)
        .order_by(TRAINING.c.start_date.desc(), TRAINING.c.id.desc())
    )
    return PersonDetail(
        summary=summary,
        household=_household(connection, scope, row.household_id),
        categories=_periods(categories, "category", CATEGORY_LABELS, day),
        employment=[
            EmploymentView(
                employer_name=s.employer_name,
                employer_org_id=s.employer_org_id,
                employer_in_scope=s.employer_org_id in openable,
                work_region=s.work_region,
                work_region_name=_place_name(s.work_region),
                start_date=s.start_date,
                end_date=s.end_date,
                organized_export=s.organized_export,
                labour_contract=s.labour_contract,
                social_insurance=s.social_insurance,
                job=s.job,
                monthly_income_fen=s.monthly_income_fen,
                travel_cost_fen=s.travel_cost_fen,
            )
            for s in spells
        ],
        training=[TrainingView(t.provider, t.programme, t.start_date, t.days, t.certificate) for t in training],
        ledger=_ledger(connection, LEDGER.c.person_id == person_id, policies),
    )


def unmask_person(
    connection: Connection,
    scope: Scope,
    person_id: int,
    *,
    actor: str,
    can_unmask: bool,
    address: str | None,
) -> dict[str, str | None] | None:
    """The person's ID number, phone and birth date in full, audited; None when missing or outside ``scope``.

    PermissionError without the permission, for a person in the scope only: a missing or out-of-scope
    person is None for everyone, so the refusal tells nothing the reader could not already see. The
    entry is written in the caller's transaction if one is open — the caller must commit it — and
    otherwise in a transaction of its own, committed before the numbers are returned.
    """
    columns = (PERSONS.c.id_number, PERSONS.c.phone, PERSONS.c.birth_date, PERSONS.c.hukou_region)
    with connection.begin() if not connection.in_transaction() else contextlib.nullcontext():
        row = _scoped_person(connection, scope, person_id, *columns)
        if row is None:
            return None
        if not can_unmask:
            raise PermissionError(f"账户 {actor} 无权查看完整的身份证号与手机号：请联系管理员开通“查看完整信息”权限")
        record(
            connection,
            actor=actor,
            action="person.unmask",
            target_type="person",
            target_id=str(person_id),
            region_code=row.hukou_region,
            address=address,
        )
    return {"id_number": row.id_number, "phone": row.phone, "birth_date": row.birth_date.isoformat()}


# --- organizations ---------------------------------------------------------------------------

_ORGANIZATION_COLUMNS = (
    ORGANIZATIONS.c.id,
    ORGANIZATIONS.c.credit_code,
    ORGANIZATIONS.c.name,
    ORGANIZATIONS.c.kind,
    ORGANIZATIONS.c.region_code,
    ORGANIZATIONS.c.contact_name,
    ORGANIZATIONS.c.phone,
)


def _organization_summary(row: Any) -> OrganizationSummary:
    return OrganizationSummary(
        id=row.id,
        credit_code=row.credit_code,
        name=row.name,
        kind=row.kind,
        kind_label=KIND_LABELS.get(row.kind, row.kind),
        region_code=row.region_code,
        region_name=regions.full_name(row.region_code),
        contact_name=row.contact_name,
        phone_masked=masked_phone(row.phone),
    )


@dataclass(frozen=True)
class OrganizationFilters:
    """What an organization search asks for; blank text counts as not given. The list and the export share it."""

    name: str | None = None
    kind: str | None = None
    region: str | None = None


def organization_conditions(scope: Scope, filters: OrganizationFilters) -> list[ColumnElement[bool]] | None:
    """SQL conditions on ``organizations`` of ``filters`` inside ``scope``; None when the region asked for
    lies outside it. QueryError, naming the field, for unusable input."""
    area = narrowed(scope, filters.region)
    if area is None:
        return None
    conditions: list[ColumnElement[bool]] = [area.organizations(ORGANIZATIONS)]
    if (wanted := _given(filters.name)) is not None:
        conditions.append(ORGANIZATIONS.c.name.contains(wanted, autoescape=True))
    if (code := _given(filters.kind)) is not None:
        if code not in ORGANIZATION_KINDS:
            choices = "、".join(KIND_LABELS[k] for k in ORGANIZATION_KINDS)
            raise QueryError(f"单位类型“{code}”无效，可选：{choices}", "kind", ORGANIZATION_KINDS)
        conditions.append(ORGANIZATIONS.c.kind == code)
    return conditions


def search_organizations(
    connection: Connection,
    scope: Scope,
    *,
    name: str | None = None,
    kind: str | None = None,
    region: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[OrganizationSummary]:
    """Organizations in ``scope`` whose name contains ``name``, of ``kind``, in ``region``; by name then id."""
    check_paging(page, per_page)
    conditions = organization_conditions(scope, OrganizationFilters(name, kind, region))
    if conditions is None:
        return page_of([], 0, page, per_page)
    query = select(*_ORGANIZATION_COLUMNS).order_by(ORGANIZATIONS.c.name, ORGANIZATIONS.c.id)
    total, rows = _paged(connection, ORGANIZATIONS, query, conditions, page, per_page)
    return page_of([_organization_summary(row) for row in rows], total, page, per_page)


def organization_detail(
    connection: Connection, scope: Scope, org_id: int, policies: PolicySet, today: dt.date | None = None
) -> OrganizationDetail | None:
    """One organization with recognitions, declared counts, employees and ledger; None outside ``scope``.

    ``policies`` names the benefits and funds of the ledger's entries."""
    day = today or dt.date.today()
    row = connection.execute(
        select(ORGANIZATIONS).where(ORGANIZATIONS.c.id == org_id, scope.organizations(ORGANIZATIONS))
    ).first()
    if row is None:
        return None
    recognitions = connection.execute(
        select(RECOGNITIONS.c.recognition, RECOGNITIONS.c.start_date, RECOGNITIONS.c.end_date)
        .where(RECOGNITIONS.c.org_id == org_id)
        .order_by(RECOGNITIONS.c.start_date.desc(), RECOGNITIONS.c.recognition)
    )
    at_employer = SPELLS.c.employer_org_id == org_id
    employees = connection.execute(
        select(
            func.count(SPELLS.c.person_id.distinct()),
            select(func.count(SPELLS.c.person_id.distinct())).where(at_employer, _held(SPELLS, day)).scalar_subquery(),
        ).where(at_employer)
    ).one()
    return OrganizationDetail(
        summary=_organization_summary(row),
        recognitions=_periods(recognitions, "recognition", RECOGNITION_LABELS, day),
        declared={column: row._mapping[column] for column in DECLARED_COUNTS},
        operating_since=row.operating_since,
        employees_registered=int(employees[0] or 0),
        employees_today=int(employees[1] or 0),
        ledger=_ledger(connection, LEDGER.c.org_id == org_id, policies),
        registered_today=_registered_by_category(connection, org_id, day),
    )


def _registered_by_category(connection: Connection, org_id: int, day: dt.date) -> dict[str, int]:
    """For each ``ABSORBED`` count, the registered workers in post at ``org_id`` on ``day`` of its category.
    Counted over every registered person, whatever the reader's scope: a number, no one named."""
    in_post = and_(SPELLS.c.employer_org_id == org_id, _held(SPELLS, day), SPELLS.c.person_id == PERSONS.c.id)
    counts = select(
        *(
            select(func.count(PERSONS.c.id.distinct())).where(in_post, _in_category(code, day)).scalar_subquery()
            for code in ABSORBED.values()
        )
    )
    return {column: int(n or 0) for column, n in zip(ABSORBED, connection.execute(counts).one(), strict=True)}
