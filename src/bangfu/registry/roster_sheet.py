"""What every roster export shares: its sheet (write-only, bold header, set widths) and its audit entry.

Write-only, so that a county's hundreds of thousands of rows stream to disk instead of living in memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import Engine

from bangfu.access.scope import Scope
from bangfu.audit.log import record
from bangfu.registry.queries import Reader


def new_roster_sheet(title: str, headers: Sequence[str], widths: Sequence[float]) -> tuple[Any, Any]:
    """A workbook and its sheet ``title`` holding the bold ``headers``; column i is ``widths[i]`` wide."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    bold = Font(bold=True)
    header = []
    for label in headers:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return workbook, sheet


def record_export(
    engine: Engine, scope: Scope, action: str, rows: int, exported_by: Reader, filters: dict[str, str]
) -> None:
    """The export's audit entry (``filters`` as the log may show them), committed on its own before the
    file is handed over."""
    with engine.begin() as connection:
        record(
            connection,
            actor=exported_by.actor,
            action=action,
            target_type="region",
            target_id=scope.region_code,
            region_code=scope.region_code,
            after={"rows": rows, "masked": True, **({"filters": filters} if filters else {})},
            address=exported_by.address,
        )


def given_filters(filters: Any) -> dict[str, str]:
    """The filters a search was given (a dataclass of optional strings), without the empty ones."""
    return {key: value.strip() for key, value in dataclasses.asdict(filters).items() if value and value.strip()}
