"""Export the registered organizations of a scope to an XLSX list, the phone masked, on the audit log.

The same rows the organization search sees (``queries.organization_conditions``: the scope, then the
filters), in the search's order. Like the people roster (``people_export``): the entry is committed
before the file appears, the file is its owner's only and never written through a link, and every text
cell is neutralized (``core.spreadsheet_safety``): a name such as ``=HYPERLINK(…)`` stays text.

Besides what the organization declared, each row carries the workers registered at it today, and the
difference is the question a county clerk asks first (see ``worker_counts``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, false, func, select

from bangfu.access.scope import Scope
from bangfu.core import regions
from bangfu.core.disclosure import masked_phone
from bangfu.core.private_files import create_private, refuse_symlink
from bangfu.core.spreadsheet_safety import safe_row
from bangfu.core.vocabulary import KIND_LABELS
from bangfu.policy.facts import ENTITIES
from bangfu.registry.imports.upsert.base import table_of
from bangfu.registry.queries import OrganizationFilters, Reader, organization_conditions
from bangfu.registry.roster_sheet import given_filters, new_roster_sheet, record_export
from bangfu.store.migrate import require_head
from bangfu.store.tables import DECLARED_COUNTS, EmploymentSpell, Organization

SHEET_TITLE = "单位"
ORGANIZATIONS = table_of(Organization)
SPELLS = table_of(EmploymentSpell)

_FIXED = (
    ("name", "单位名称", 30),
    ("credit_code", "统一社会信用代码", 22),
    ("kind", "单位类型", 14),
    ("county", "所在县", 24),
    ("township", "乡镇（街道）", 14),
    ("contact_name", "联系人", 10),
    ("phone", "联系电话", 16),
    ("operating_since", "开始运营日期", 14),
    ("workers_today", "登记在岗人数", 14),
)
HEADERS = (
    *(label for _, label, _ in _FIXED),
    *(ENTITIES["organization"].fields[name].label for name in DECLARED_COUNTS),
)


@dataclasses.dataclass(frozen=True)
class OrganizationExport:
    region: str
    region_name: str
    rows: int
    path: Path


def _places(region_code: str) -> tuple[str, str]:
    """(county's full name, township's name or "") of where an organization is registered."""
    region = regions.get(region_code)
    if region is not None and region.level == "township":
        return regions.full_name(regions.county_of(region_code)), region.name
    return regions.full_name(region_code), ""


def _cells(row: Any) -> list[object]:
    county, township = _places(row.region_code)
    values: dict[str, object] = {
        "name": row.name,
        "credit_code": row.credit_code,
        "kind": KIND_LABELS.get(row.kind, row.kind),
        "county": county,
        "township": township,
        "contact_name": row.contact_name or "",
        "phone": masked_phone(row.phone) or "",
        "operating_since": row.operating_since.isoformat() if row.operating_since else "",
        "workers_today": int(row.workers_today or 0),
    }
    # A count the organization did not declare stays empty: unknown is not zero.
    return [*(values[name] for name, _, _ in _FIXED), *(row._mapping[name] for name in DECLARED_COUNTS)]


def _workers_today(day: dt.date) -> Any:
    at_it = SPELLS.c.employer_org_id == ORGANIZATIONS.c.id
    held = (SPELLS.c.start_date <= day) & (SPELLS.c.end_date.is_(None) | (SPELLS.c.end_date >= day))
    return select(func.count(SPELLS.c.person_id.distinct())).where(at_it, held).scalar_subquery().label("workers_today")


def _new_sheet() -> tuple[Any, Any]:
    widths = [width for _, _, width in _FIXED] + [16] * len(DECLARED_COUNTS)
    return new_roster_sheet(SHEET_TITLE, HEADERS, widths)


def export_organizations(
    engine: Engine,
    scope: Scope,
    out: Path | str,
    *,
    exported_by: Reader,
    filters: OrganizationFilters | None = None,
    today: dt.date | None = None,
) -> OrganizationExport:
    """Write the organizations in ``scope`` matching ``filters`` to ``out`` (XLSX), the phone masked.
    QueryError, before anything is written, for filters the search would refuse. The file appears only
    after its audit entry is committed."""
    out_path = Path(out)
    refuse_symlink(out_path)
    asked = filters or OrganizationFilters()
    found = organization_conditions(scope, asked)
    conditions: list[ColumnElement[bool]] = found if found is not None else [false()]
    query = (
        select(ORGANIZATIONS, _workers_today(today or dt.date.today()))
        .where(*conditions)
        .order_by(ORGANIZATIONS.c.name, ORGANIZATIONS.c.id)
    )
    workbook, sheet = _new_sheet()
    written = 0
    with engine.connect() as connection:
        require_head(connection)
        for row in connection.execute(query):
            sheet.append(safe_row(_cells(row)))
            written += 1
    partial = out_path.with_name(f".{out_path.name}.{os.getpid()}.part")
    try:
        with create_private(partial, "wb") as stream:
            workbook.save(stream)
        record_export(engine, scope, "organizations.export", written, exported_by, given_filters(asked))
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
    return OrganizationExport(region=scope.region_code, region_name=scope.name, rows=written, path=out_path)
