"""The one sheet every roster export writes: a write-only workbook with a bold header row and set widths.

Write-only, so that a county's hundreds of thousands of rows stream to disk instead of living in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped, unused-ignore]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped, unused-ignore]


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
