"""The entries behind a dashboard's money figure: benefit ledger rows of a region, fund and year.

The dashboard sums ``benefit_ledger`` by the fund of each entry's benefit (``reports.dashboard``); this
lists the same rows, so that the figure and its list always agree: an entry counts in a region through
its person (township when known, else hukou county, as every person read) or its organization; amounts
are signed (a correction is a negative entry). Names are shown, ID numbers masked by the one disclosure
policy; the list links to the person or organization page, where everything else is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select

from bangfu.access.scope import Scope
from bangfu.core.disclosure import masked_id_number
from bangfu.policy.model import FUNDS
from bangfu.policy.policy_set import PolicySet
from bangfu.registry.imports.upsert.base import table_of
from bangfu.registry.queries import Page, QueryError, check_paging, narrowed, page_of
from bangfu.reports.dashboard import OTHER_FUND
from bangfu.store.tables import BenefitLedgerEntry, Organization, Person

LEDGER = table_of(BenefitLedgerEntry)
PERSONS = table_of(Person)
ORGANIZATIONS = table_of(Organization)
FUND_CHOICES = (*FUNDS, OTHER_FUND)
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class LedgerFilters:
    fund: str | None = None  # a FUNDS key, or OTHER_FUND for benefits no loaded policy defines
    year: int | None = None
    region: str | None = None  # a code or a name, as the people search takes it


@dataclass(frozen=True)
class LedgerRow:
    id: int
    date: dt.date
    amount_fen: int
    benefit_label: str
    fund_label: str
    source: str
    person_id: int | None
    org_id: int | None
    beneficiary: str  # a person's name or an organization's
    masked_id_number: str | None  # a person's, masked


def fund_label(fund: str) -> str:
    return FUNDS.get(fund, "其他（政策未定义的补贴）")


def _benefits_of(policies: PolicySet, fund: str) -> ColumnElement[bool]:
    known = {benefit_id for document in policies.documents for benefit_id in document.benefits}
    if fund == OTHER_FUND:
        return LEDGER.c.benefit_id.not_in(sorted(known)) if known else LEDGER.c.benefit_id.is_not(None)
    ids = sorted(b for b in known if (benefit := policies.benefit(b)) is not None and benefit.fund == fund)
    return LEDGER.c.benefit_id.in_(ids) if ids else false()


def ledger_conditions(scope: Scope, filters: LedgerFilters, policies: PolicySet) -> list[ColumnElement[bool]] | None:
    """Conditions on the ledger joined to persons and organizations; None when the region asked for lies
    outside ``scope``. QueryError, naming the field, for unusable input."""
    area = narrowed(scope, filters.region)
    if area is None:
        return None
    conditions: list[ColumnElement[bool]] = [
        or_(
            and_(LEDGER.c.person_id.is_not(None), area.persons(PERSONS)),
            and_(LEDGER.c.org_id.is_not(None), area.organizations(ORGANIZATIONS)),
        )
    ]
    if filters.fund:
        if filters.fund not in FUND_CHOICES:
            choices = "、".join(fund_label(f) for f in FUND_CHOICES)
            raise QueryError(f"资金来源“{filters.fund}”无效，可选：{choices}", "fund", list(FUND_CHOICES))
        conditions.append(_benefits_of(policies, filters.fund))
    if filters.year is not None:
        if not EARLIEST_YEAR <= filters.year <= 2100:
            raise QueryError(f"年度应在 {EARLIEST_YEAR} 到 2100 之间，实为 {filters.year}", "year")
        conditions.append(LEDGER.c.date.between(dt.date(filters.year, 1, 1), dt.date(filters.year, 12, 31)))
    return conditions


def search_ledger(
    connection: Connection,
    scope: Scope,
    filters: LedgerFilters,
    policies: PolicySet,
    *,
    page: int = 1,
    per_page: int = 50,
) -> tuple[Page[LedgerRow], int]:
    """A page of the entries (newest first) and the sum of all of them in fen."""
    check_paging(page, per_page)
    conditions = ledger_conditions(scope, filters, policies)
    if conditions is None:
        return page_of([], 0, page, per_page), 0
    joined = LEDGER.outerjoin(PERSONS, PERSONS.c.id == LEDGER.c.person_id).outerjoin(
        ORGANIZATIONS, ORGANIZATIONS.c.id == LEDGER.c.org_id
    )
    total, fen = connection.execute(
        select(func.count(), func.coalesce(func.sum(LEDGER.c.amount_fen), 0)).select_from(joined).where(*conditions)
    ).one()
    query = (
        select(
            LEDGER.c.id,
            LEDGER.c.date,
            LEDGER.c.amount_fen,
            LEDGER.c.benefit_id,
            LEDGER.c.source,
            LEDGER.c.person_id,
            LEDGER.c.org_id,
            PERSONS.c.name.label("person_name"),
            PERSONS.c.id_number,
            ORGANIZATIONS.c.name.label("org_name"),
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(LEDGER.c.date.desc(), LEDGER.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = []
    for row in connection.execute(query):
        benefit = policies.benefit(row.benefit_id)
        rows.append(
            LedgerRow(
                id=row.id,
                date=row.date,
                amount_fen=row.amount_fen,
                benefit_label=benefit.label if benefit else "政策未定义的补贴",
                fund_label=fund_label(benefit.fund if benefit else OTHER_FUND),
                source=row.source,
                person_id=row.person_id,
                org_id=row.org_id,
                beneficiary=row.person_name if row.person_id is not None else row.org_name,
                masked_id_number=masked_id_number(row.id_number) if row.id_number else None,
            )
        )
    return page_of(rows, int(total), page, per_page), int(fen)
