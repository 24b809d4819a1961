"""Dashboard figures: counted per finest region by two GROUP BY queries, summed per scope on read.

``refresh_figures`` replaces every row of ``dashboard_figures`` in one transaction. A person counts in
their township when it is known, else in their hukou county (the same split ``access.scope`` uses, so
a township's dashboard counts exactly the persons its search shows). Measures and keys:

- ``persons`` / ``all``: registered persons;
- ``category`` / category code: persons holding it on the day;
- ``work``: persons in work on the day (a spell that started and has not ended) — ``cross_province``
  (work region outside Shanxi), ``in_province`` (in Shanxi, outside the hukou county), ``in_county``
  (in the hukou county), ``organized_export`` (through organized labour export; unknown is not yes);
  someone holding spells in two places counts under both. ``not_working``: persons with a recorded
  working labour capacity (技能、普通、弱劳动力或半劳动力; not 丧失劳动力
  or 无劳动力, who are not looking for work) and no spell that day; ``not_working_capacity_unknown``: the same
  without a recorded capacity, kept apart because a blank capacity may be someone who cannot work;
- ``benefit_fund`` / fund id: ledger amounts (signed, so corrections net out) dated in the day's
  calendar year, by the bundled policy's fund of the benefit (``other`` for a benefit it does not know);
- ``benefit_count`` / benefit id: ledger entries with a positive amount in that year.

Ledger entries of organizations count in the organization's region. Zero values are not stored: a
missing row reads as 0. A refresh of 3.3 million persons took 24 s on PostgreSQL on the shared 2-core
test VM (under load), which is why the figures are stored; a dashboard then sums some 26,000 small
rows in milliseconds (12–50 ms there, township to province).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, select, union_all

from bangfu.access.scope import Scope
from bangfu.core.vocabulary import CATEGORIES, WORKING_CAPACITIES
from bangfu.policy.policy_set import PolicySet
from bangfu.store.tables import (
    BenefitLedgerEntry,
    DashboardFigure,
    EmploymentSpell,
    Organization,
    Person,
    PersonCategory,
)

FIGURES = cast(Table, DashboardFigure.__table__)
PERSONS = cast(Table, Person.__table__)
CATEGORY_ROWS = cast(Table, PersonCategory.__table__)
SPELLS = cast(Table, EmploymentSpell.__table__)
LEDGER = cast(Table, BenefitLedgerEntry.__table__)
ORGANIZATIONS = cast(Table, Organization.__table__)

WORK_KEYS = (
    "cross_province",
    "in_province",
    "in_county",
    "organized_export",
    "not_working",
    "not_working_capacity_unknown",
)
OTHER_FUND = "other"
SHANXI = "14"

Figure = tuple[str, str, str, int]  # region, measure, key, value


@dataclass
class Dashboard:
    """The figures of one scope; ``computed_at`` is None when they were never refreshed."""

    region_code: str
    region_name: str
    computed_at: dt.datetime | None
    as_of: dt.date | None = None  # the day the figures describe; their "year" is its calendar year
    persons: int = 0
    categories: dict[str, int] = field(default_factory=dict)  # every category, 0 when none
    work: dict[str, int] = field(default_factory=dict)  # every WORK_KEYS key, 0 when none
    funds: dict[str, int] = field(default_factory=dict)  # fen, the funds that have entries
    benefits: dict[str, int] = field(default_factory=dict)  # entries, the benefits that have any


def _finest_region() -> Any:
    return func.coalesce(PERSONS.c.township_code, PERSONS.c.hukou_region)


def _held(table: Table, today: dt.date) -> Any:
    return (table.c.start_date <= today) & (table.c.end_date.is_(None) | (table.c.end_date >= today))


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0)


def _people(connection: Connection, today: dt.date) -> list[Figure]:
    """Persons, categories and work per region, from one pass over persons and their held periods.

    One pass, grouped by person: joined along ``persons.id`` to the periods held on the day, the rows
    arrive in id order (PostgreSQL merges the three primary/foreign-key indexes and aggregates as it
    goes, with no hash table of millions of persons), and a person's flags are then summed per region.
    Separate queries per measure took several times as long at 3.3 million persons.
    """
    place = SPELLS.c.work_region
    in_shanxi = func.substr(place, 1, 2) == SHANXI
    at_home = func.substr(place, 1, 6) == PERSONS.c.hukou_region
    idle = SPELLS.c.person_id.is_(None)
    capacity = PERSONS.c.labor_capacity
    flags = {
        **{f"category:{code}": CATEGORY_ROWS.c.category == code for code in CATEGORIES},
        "work:cross_province": ~in_shanxi,
        "work:in_province": in_shanxi & ~at_home,
        "work:in_county": at_home,
        # Unknown (NULL) is not yes.
        "work:organized_export": SPELLS.c.organized_export.is_(True),
        "work:not_working": idle & capacity.in_(WORKING_CAPACITIES),
        "work:not_working_capacity_unknown": idle & capacity.is_(None),
    }
    held_spells = and_(SPELLS.c.person_id == PERSONS.c.id, _held(SPELLS, today))
    held_categories = and_(CATEGORY_ROWS.c.person_id == PERSONS.c.id, _held(CATEGORY_ROWS, today))
    per_person = (
        select(
            _finest_region().label("region"),
            *(func.max(_flag(condition)).label(f"flag_{index}") for index, condition in enumerate(flags.values())),
        )
        .select_from(PERSONS.outerjoin(SPELLS, held_spells).outerjoin(CATEGORY_ROWS, held_categories))
        # Grouping by the key alone is enough: the region and flags' columns depend on it.
        .group_by(PERSONS.c.id)
        .subquery()
    )
    sums = [func.sum(per_person.c[f"flag_{index}"]) for index in range(len(flags))]
    query = select(per_person.c.region, func.count(), *sums).group_by(per_person.c.region)
    figures: list[Figure] = []
    for region, persons, *values in connection.execute(query):
        figures.append((region, "persons", "all", persons))
        for name, value in zip(flags, values, strict=True):
            measure, key = name.split(":")
            figures.append((region, measure, key, int(value or 0)))
    return figures


def _ledger(connection: Connection, today: dt.date, policies: PolicySet) -> list[Figure]:
    in_year = LEDGER.c.date.between(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
    positive = func.sum(_flag(LEDGER.c.amount_fen > 0))
    person_region = _finest_region()
    people = (
        select(person_region.label("region"), LEDGER.c.benefit_id, func.sum(LEDGER.c.amount_fen), positive)
        .select_from(LEDGER.join(PERSONS, PERSONS.c.id == LEDGER.c.person_id))
        .where(in_year)
        .group_by(person_region, LEDGER.c.benefit_id)
    )
    organizations = (
        select(ORGANIZATIONS.c.region_code, LEDGER.c.benefit_id, func.sum(LEDGER.c.amount_fen), positive)
        .select_from(LEDGER.join(ORGANIZATIONS, ORGANIZATIONS.c.id == LEDGER.c.org_id))
        .where(in_year)
        .group_by(ORGANIZATIONS.c.region_code, LEDGER.c.benefit_id)
    )
    funds: dict[tuple[str, str], int] = defaultdict(int)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    # Aggregated rows (regions x benefits, a few thousand), not persons: mapping them here keeps the
    # benefit-to-fund table in one place, the loaded policy.
    for region, benefit_id, amount, entries in connection.execute(union_all(people, organizations)):
        benefit = policies.benefit(benefit_id)
        funds[region, benefit.fund if benefit else OTHER_FUND] += int(amount or 0)
        counts[region, benefit_id] += int(entries or 0)
    return [(region, "benefit_fund", fund, fen) for (region, fund), fen in funds.items()] + [
        (region, "benefit_count", benefit_id, n) for (region, benefit_id), n in counts.items()
    ]


def compute_figures(connection: Connection, today: dt.date, policies: PolicySet) -> list[Figure]:
    """Every non-zero figure of ``today``, without writing anything; ``policies`` maps benefits to funds."""
    figures = [*_people(connection, today), *_ledger(connection, today, policies)]
    return [(region, measure, key, int(value)) for region, measure, key, value in figures if value]


def refresh_figures(connection: Connection, today: dt.date, policies: PolicySet) -> int:
    """Replace all dashboard figures with those of ``today``; returns the rows written.

    In the caller's transaction when one is open (it then commits), else in one of its own. On
    PostgreSQL the table is locked against other refreshes (readers go on seeing the old figures until
    commit), so two refreshes at once run one after the other instead of colliding on the primary key.
    """
    with connection.begin() if not connection.in_transaction() else contextlib.nullcontext():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("LOCK TABLE dashboard_figures IN EXCLUSIVE MODE")
            # Hash aggregates over millions of rows stay in memory instead of spilling to disk; compiling
            # these wide expressions (JIT) costs seconds per query and saves less than that.
            connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            connection.exec_driver_sql("SET LOCAL jit = off")
        figures = compute_figures(connection, today, policies)
        computed_at = dt.datetime.now(dt.UTC)
        connection.execute(delete(FIGURES))
        if figures:
            connection.execute(
                insert(FIGURES),
                [
                    {"region_code": r, "measure": m, "key": k, "value": v, "as_of": today, "computed_at": computed_at}
                    for r, m, k, v in figures
                ],
            )
    return len(figures)


def _in_scope(scope: Scope) -> Any:
    # A figure's region is a county or one of its townships: a range on the key's first column, where
    # ``substr(region_code, 1, 6) IN (121 counties)`` compared every row with every county (8 ms of the
    # province dashboard's 50 ms on 15,000 figures).
    return scope.places(FIGURES.c.region_code)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back DateTime(timezone=True) values naive; they were written in UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def dashboard(connection: Connection, scope: Scope) -> Dashboard:
    """The stored figures summed over ``scope``."""
    computed_at, as_of = connection.execute(select(func.max(FIGURES.c.computed_at), func.max(FIGURES.c.as_of))).one()
    result = Dashboard(
        region_code=scope.region_code,
        region_name=scope.name,
        computed_at=_utc(computed_at),
        as_of=dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of,
        categories=dict.fromkeys(CATEGORIES, 0),
        work=dict.fromkeys(WORK_KEYS, 0),
    )
    query = (
        select(FIGURES.c.measure, FIGURES.c.key, func.sum(FIGURES.c.value))
        .where(_in_scope(scope))
        .group_by(FIGURES.c.measure, FIGURES.c.key)
        .order_by(FIGURES.c.measure, FIGURES.c.key)
    )
    by_measure = {
        "category": result.categories,
        "work": result.work,
        "benefit_fund": result.funds,
        "benefit_count": result.benefits,
    }
    for measure, key, value in connection.execute(query):
        if measure == "persons":
            result.persons += int(value)
        elif measure in by_measure:
            by_measure[measure][key] = int(value)
    return result
