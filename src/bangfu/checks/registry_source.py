"""Load the registry's persons of one scope into DuckDB as the rows of a national download.

``bangfu check`` without a file checks the registry with the same rules as a download: each
registered person becomes one row of the national layout (``registry/national_layout.py``), written
as the download would write it (dates ``YYYY-MM-DD``, 是/否, labels rather than codes), and from there
the file mode's own typing (``source.create_rows``) makes the table ``rows``. So a rule runs the same
SQL on both, and a rule whose columns the registry does not keep is "未核查" as for a file without them.

Where each field comes from: the person (姓名 性别 出生日期 证件号码 人口编号 与户主关系 文化程度 …),
the household (户编号 户主姓名 户主证件号码 户联系电话), the year's facts (年度 务工 公益性岗位, the
``--year`` given or else the person's latest), the current categories (户类型 监测对象类别), the
region codes (县 乡), and the original record the import kept (村 民族 识别标准 and the other columns
Bangfu has no place for). The read is scoped like every registry read (``access.scope``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, and_, func, select

from bangfu.access.scope import Scope
from bangfu.checks.source import LoadedFile, create_rows, load_source
from bangfu.core import regions
from bangfu.core.vocabulary import LABOR_CAPACITY_LABELS, SEX_LABELS
from bangfu.registry.imports.header_rows import normalize_header
from bangfu.registry.imports.validate_national import MONITORING_CATEGORIES
from bangfu.registry.national_layout import BY_FIELD, COLUMNS, LayoutMatch
from bangfu.store.tables import Household, Person, PersonCategory, PersonYearFacts

FETCH_ROWS = 10_000
_YES_NO = {True: "是", False: "否"}
_MONITORING_LABELS = {code: label for label, code in MONITORING_CATEGORIES.items()}
_BY_LABEL = {normalize_header(name): column.field for column in COLUMNS for name in (column.label, *column.aliases)}

# The file mode's columns the registry cannot give back: 成员联系电话 is stored merged with the
# household's phone, and 风险是否已消除 is not kept apart from the monitoring category's end.
NOT_STORED = frozenset({"member_phone", "risk_removed"})


def registry_label(scope: Scope, year: int | None) -> str:
    """How the checked source is named in the report (its 核查文件 line)."""
    return f"登记库（{scope.name}{f'，{year} 年度' if year else ''}）"


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return _YES_NO[value]
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value)
    return text if text.strip() else None


def _categories(engine: Engine, scope: Scope) -> dict[int, set[str]]:
    """Each person's current categories (those with no end date)."""
    query = (
        select(PersonCategory.person_id, PersonCategory.category)
        .join(Person, Person.id == PersonCategory.person_id)
        .where(scope.persons(), PersonCategory.end_date.is_(None))
    )
    held: dict[int, set[str]] = {}
    with engine.connect() as connection:
        for person_id, category in connection.execute(query):
            held.setdefault(person_id, set()).add(category)
    return held


def _household_kind(held: set[str]) -> tuple[str | None, str | None]:
    kind = "监测户" if "monitored" in held else "脱贫户" if "poverty_alleviated" in held else None
    monitoring = next((_MONITORING_LABELS[c] for c in sorted(held) if c in _MONITORING_LABELS), None)
    return kind, monitoring


# Layout fields read as they are stored (text, numbers, dates, booleans: ``_text`` writes them as a
# download would); the others are translated in ``_record``.
_AS_STORED = {
    "household_number": Household.household_number,
    "person_number": Person.person_number,
    "name": Person.name,
    "birth_date": Person.birth_date,
    "id_number": Person.id_number,
    "household_phone": Household.phone,
    "year": PersonYearFacts.year,
    "relation_to_head": Person.relation_to_head,
    "education": Person.education,
    "schooling": Person.schooling,
    "work_months": PersonYearFacts.work_months,
    "health": Person.health,
    "employer_name": PersonYearFacts.employer_name,
    "minimum_living_allowance": Person.minimum_living_allowance,
    "welfare_post_type": PersonYearFacts.welfare_post_type,
    "welfare_post_months": PersonYearFacts.welfare_post_months,
    "employment_channel": PersonYearFacts.employment_channel,
    "disability": Person.disability,
    "work_place": PersonYearFacts.work_place,
    "head_name": Household.head_name,
    "head_id_number": Household.head_id_number,
    "extreme_poverty_support": Person.extreme_poverty_support,
    "risk_removed_on": Person.risk_removed_on,
}
# Fields the registry keeps in a place of its own; every other field is read from the original record.
STORED_FIELDS = frozenset(
    {*_AS_STORED, "county", "township", "sex", "labor_skill", "household_kind", "monitoring_category"}
)


_TRANSLATED = (Person.id, Person.hukou_region, Person.township_code, Person.sex, Person.labor_capacity)


@functools.cache
def _field_of(label: str) -> str | None:
    """The layout field of a column label kept in an original record (None: a column of no field)."""
    field = _BY_LABEL.get(normalize_header(label))
    return None if field is None or field in STORED_FIELDS or field in NOT_STORED else field


def _records(
    engine: Engine, scope: Scope, year: int | None, counties: frozenset[str] | None = None
) -> Iterator[dict[str, str | None]]:
    """One dict of layout field -> text per person of ``scope`` (of ``counties`` when given), in export order.

    Plain columns rather than ORM objects: a province's millions of persons are read once, and
    building an object per row would cost more than everything else together.
    """
    columns: list[Any] = [column.label(field) for field, column in _AS_STORED.items()]
    columns += [*_TRANSLATED, Person.original_record]
    if year is None:  # each person's latest year
        latest = (
            select(PersonYearFacts.person_id, func.max(PersonYearFacts.year).label("latest"))
            .group_by(PersonYearFacts.person_id)
            .subquery()
        )
        facts_join = and_(PersonYearFacts.person_id == Person.id, PersonYearFacts.year == latest.c.latest)
        base = select(*columns).select_from(Person).outerjoin(latest, latest.c.person_id == Person.id)
    else:
        facts_join = and_(PersonYearFacts.person_id == Person.id, PersonYearFacts.year == year)
        base = select(*columns).select_from(Person)
    query = (
        base.outerjoin(Household, Household.id == Person.household_id)
        .outerjoin(PersonYearFacts, facts_join)
        .where(scope.persons())
        .order_by(Person.hukou_region, Household.household_number, Person.person_number, Person.id_number)
    )
    if counties is not None:
        query = query.where(Person.hukou_region.in_(counties))
    held = _categories(engine, scope)
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=FETCH_ROWS).execute(query)
        for row in result.mappings():
            yield _record(row, held.get(row["id"], set()))


def _record(row: Any, held: set[str]) -> dict[str, str | None]:
    kind, monitoring = _household_kind(held)
    record = {field: _text(row[field]) for field in _AS_STORED}
    record["county"] = regions.name_of(row["hukou_region"])
    record["township"] = regions.name_of(row["township_code"]) if row["township_code"] else None
    record["sex"] = SEX_LABELS.get(row["sex"])
    record["labor_skill"] = LABOR_CAPACITY_LABELS.get(row["labor_capacity"] or "")
    record["household_kind"], record["monitoring_category"] = kind, monitoring
    if row["original_record"]:
        for label, value in json.loads(row["original_record"]).items():
            field = _field_of(label)
            if field is not None:
                record[field] = _text(value)
    return record


def load_registry(
    connection: duckdb.DuckDBPyConnection,
    engine: Engine,
    scope: Scope,
    year: int | None,
    batch_rows: int = 100_000,
    *,
    table: str = "rows",
    counties: frozenset[str] | None = None,
) -> LoadedFile:
    """The scope's persons (of ``counties`` only, codes, when given) as ``table`` of ``connection``;
    ``row_no`` numbers them in export order."""
    fields = [c.field for c in COLUMNS if c.field not in NOT_STORED]
    columns = {field: index for index, field in enumerate(fields)}
    present: set[str] = set()

    def records() -> Iterator[tuple[int, list[object]]]:
        for number, record in enumerate(_records(engine, scope, year, counties), 1):
            values: list[object] = [record.get(field) for field in fields]
            present.update(field for field, value in zip(fields, values, strict=True) if value is not None)
            yield number, values

    load_source(connection, list(columns.values()), records(), batch_rows)
    create_rows(connection, columns, "source", "__line", table=table)
    connection.execute("DROP TABLE source")
    [(count,)] = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchall()
    # A column the registry holds for nobody in the scope (no original record kept 民族) is absent, as
    # in a download without it: its rules are not checked rather than finding every row empty.
    kept = STORED_FIELDS | present
    match = LayoutMatch(
        columns={field: index for field, index in columns.items() if field in kept},
        missing_required=(),
        missing_optional=tuple(BY_FIELD[f] for f in fields if f not in kept) + tuple(BY_FIELD[f] for f in NOT_STORED),
        unknown_labels=(),
    )
    return LoadedFile(Path(registry_label(scope, year)), match, int(count))


def record_check(engine: Engine, scope: Scope, rows: int, actor: str) -> None:
    """The check's audit entry, committed before any workbook is written: the results are masked
    personal data of the whole scope, handed round like an export (``people.export``)."""
    from bangfu.audit.log import record

    with engine.begin() as connection:
        record(
            connection,
            actor=actor,
            action="checks.registry",
            target_type="region",
            target_id=scope.region_code,
            region_code=scope.region_code,
            after={"rows": rows, "masked": True},
        )
