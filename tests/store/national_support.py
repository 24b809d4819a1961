"""The national monitoring system's person-table sample (tests/data) and variants of it for the import tests."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "national-persons-sample.xlsx"
DATA_ROWS = 33  # persons in the sample, on sheet rows 3 to 35
HOUSEHOLDS = 12


def sample_table() -> tuple[str, list[str], list[list[Any]]]:
    """The sample's title, header and data rows, cells as stored (None for an empty cell)."""
    workbook = openpyxl.load_workbook(SAMPLE, read_only=True)
    try:
        rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
    return str(rows[0][0]), [str(cell) for cell in rows[1]], rows[2:]


def edited(change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> tuple[str, list[str], list[list[Any]]]:
    """The sample with ``change`` applied to each row as a {column: cell} dict (None drops the row)."""
    title, header, rows = sample_table()
    kept = []
    for row in rows:
        result = change(dict(zip(header, row, strict=True)))
        if result is not None:
            kept.append([result[label] for label in header])
    return title, header, kept


def without_columns(labels: Sequence[str]) -> tuple[str, list[str], list[list[Any]]]:
    title, header, rows = sample_table()
    keep = [index for index, label in enumerate(header) if label not in labels]
    return title, [header[i] for i in keep], [[row[i] for i in keep] for row in rows]


def write_national_xlsx(path: Path, table: tuple[str, list[str], list[list[Any]]]) -> Path:
    title, header, rows = table
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "人口信息"
    sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_national_csv(path: Path, table: tuple[str, list[str], list[list[Any]]], encoding: str) -> Path:
    title, header, rows = table
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return path
