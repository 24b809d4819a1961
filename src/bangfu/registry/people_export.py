"""Export the registered people of a region (province, city or county) to an XLSX roster, masked.

Columns carry the import headers (姓名, 身份证号, 户籍所在县, …) so that a roster reads the same in
both directions. ID numbers and phones are masked by the one disclosure policy
(``core.disclosure``); the birth date is left out, because together with the county and the masked
number's ends it would narrow the masked digits down. Every export is on the audit log before the file
is there; an unmasked export is not offered.

Rows are read a page at a time (keyset pagination on ``persons.id``) and written with openpyxl's
write-only workbook, so memory stays flat for a whole province. The file appears only when complete,
readable by its owner only, and never through a symbolic link (``core.private_files``). Registered
text came from county files anyone may have written, so a name such as ``=HYPERLINK(…)`` is written
as text that no spreadsheet runs (``core.spreadsheet_safety``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, false, or_, select

from bangfu.access.scope import Scope
from bangfu.core import regions
from bangfu.core.disclosure import masked_id_number, masked_phone
from bangfu.core.private_files import create_private, refuse_symlink
from bangfu.core.spreadsheet_safety import safe_row
from bangfu.core.vocabulary import CATEGORIES, CATEGORY_LABELS, LABOR_CAPACITY_LABELS, SEX_LABELS
from bangfu.registry.imports.headers import PEOPLE
from bangfu.registry.imports.upsert.base import table_of
from bangfu.registry.imports.upsert.bulk_io import rows_in
from bangfu.registry.queries import VILLAGE_HEADERS, PeopleFilters, Reader, people_conditions
from bangfu.registry.roster_sheet import given_filters, new_roster_sheet, record_export
from bangfu.store.migrate import require_head
from bangfu.store.tables import Household, Person, PersonCategory

PAGE_ROWS = 5_000
SHEET_TITLE = "人员"
# The import's people columns, less the birth date (see the module note), with the township and the
# village after the county: what a township assistant sorts a roster by. The import reads the township
# from its code and keeps a village in the person's original record, so neither is one of its fields.
_IMPORTED = tuple(spec.name for spec in PEOPLE.fields if spec.name != "birth_date")
_LABELS = {spec.name: spec.label for spec in PEOPLE.fields} | {"township": "乡镇（街道）", "village": "村"}
_AFTER_COUNTY = _IMPORTED.index("hukou_region") + 1
EXPORTED_COLUMNS = (*_IMPORTED[:_AFTER_COUNTY], "township", "village", *_IMPORTED[_AFTER_COUNTY:])
HEADERS = tuple(_LABELS[name] for name in EXPORTED_COLUMNS)
_COLUMN_WIDTHS = {"name": 10, "id_number": 22, "hukou_region": 24, "township": 14, "categories": 28, "phone": 16}

PERSONS = table_of(Person)
HOUSEHOLDS = table_of(Household)
CATEGORY_ROWS = table_of(PersonCategory)


@dataclass(frozen=True)
class ExportReport:
    region: str
    region_name: str
    rows: int
    path: Path


def _current_categories(connection: Connection, person_ids: list[int], today: dt.date) -> dict[int, set[str]]:
    query = select(CATEGORY_ROWS.c.person_id, CATEGORY_ROWS.c.category).where(
        CATEGORY_ROWS.c.start_date <= today,
        or_(CATEGORY_ROWS.c.end_date.is_(None), CATEGORY_ROWS.c.end_date >= today),
    )
    held: dict[int, set[str]] = {}
    for person_id, category in rows_in(connection, query, CATEGORY_ROWS.c.person_id, person_ids):
        held.setdefault(person_id, set()).add(category)
    return held


def _village(original_record: str | None) -> str:
    if not original_record:
        return ""
    with contextlib.suppress(ValueError):
        kept = json.loads(original_record)
        if isinstance(kept, dict):
            return next((str(kept[h]) for h in VILLAGE_HEADERS if kept.get(h)), "")
    return ""


def _cells(row: Any, categories: set[str]) -> list[str]:
    named = "、".join(CATEGORY_LABELS[code] for code in CATEGORIES if code in categories)
    values = {
        "name": row.name,
        "id_number": masked_id_number(row.id_number),
        "hukou_region": regions.full_name(row.hukou_region),
        "township": regions.name_of(row.township_code) if row.township_code else "",
        "village": _village(row.original_record),
        "categories": named,
        "labor_capacity": LABOR_CAPACITY_LABELS.get(row.labor_capacity or "", ""),
        "phone": masked_phone(row.phone) or "",
        "sex": SEX_LABELS.get(row.sex, ""),
        "household_number": row.household_number or "",
    }
    return [values[name] for name in EXPORTED_COLUMNS]


def _pages(connection: Connection, conditions: list[ColumnElement[bool]], page_rows: int) -> Any:
    query = (
        select(
            PERSONS.c.id,
            PERSONS.c.name,
            PERSONS.c.id_number,
            PERSONS.c.hukou_region,
            PERSONS.c.labor_capacity,
            PERSONS.c.phone,
            PERSONS.c.sex,
            PERSONS.c.township_code,
            PERSONS.c.original_record,
            HOUSEHOLDS.c.household_number,
        )
        .select_from(PERSONS.outerjoin(HOUSEHOLDS, PERSONS.c.household_id == HOUSEHOLDS.c.id))
        .where(*conditions)
        .order_by(PERSONS.c.id)
        .limit(page_rows)
    )
    last = 0
    while page := connection.execute(query.where(PERSONS.c.id > last)).all():
        yield page
        last = page[-1].id


def _temporary_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.{os.getpid()}.part")


def _new_sheet() -> tuple[Any, Any]:
    widths = [_COLUMN_WIDTHS.get(name, 12) for name in EXPORTED_COLUMNS]
    return new_roster_sheet(SHEET_TITLE, HEADERS, widths)


def _shown_filters(filters: PeopleFilters) -> dict[str, str]:
    """The filters as the audit log keeps them: an ID number masked like everywhere else."""
    shown = given_filters(filters)
    if "id_number" in shown:
        shown["id_number"] = masked_id_number(shown["id_number"])
    return shown


def export_people(
    engine: Engine,
    scope: Scope,
    out: Path | str,
    *,
    exported_by: Reader,
    filters: PeopleFilters | None = None,
    today: dt.date | None = None,
    page_rows: int = PAGE_ROWS,
) -> ExportReport:
    """Write everyone in ``scope`` matching ``filters`` (the same rows its searches see) to ``out`` (XLSX),
    masked. QueryError, before anything is written, for filters the search would refuse.

    The file appears at ``out`` only after its audit entry is committed: if the entry cannot be
    written, the half-made file is deleted and the error propagates, so no roster leaves unrecorded.
    """
    out_path = Path(out)
    refuse_symlink(out_path)  # before the work: os.replace would put the roster in the link's place anyway
    day = today or dt.date.today()
    asked = filters or PeopleFilters()
    found = people_conditions(scope, asked, day)
    conditions: list[ColumnElement[bool]] = found[0] if found is not None else [false()]
    written = 0
    with engine.connect() as connection:
        require_head(connection)
        workbook, sheet = _new_sheet()
        try:
            for page in _pages(connection, conditions, page_rows):
                held = _current_categories(connection, [row.id for row in page], day)
                for row in page:
                    sheet.append(safe_row(_cells(row, held.get(row.id, set()))))
                written += len(page)
        except BaseException:
            # Finish the sheet's temporary file, which openpyxl would otherwise complain about when collected.
            with contextlib.suppress(Exception):
                sheet.close()
            raise
    partial = _temporary_path(out_path)
    try:
        with create_private(partial, "wb") as stream:
            workbook.save(stream)
        record_export(engine, scope, "people.export", written, exported_by, _shown_filters(asked))
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
    return ExportReport(region=scope.region_code, region_name=scope.name, rows=written, path=out_path)
