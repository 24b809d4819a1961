"""The column-wise reading of a national CSV (``national_columns``) against the row-by-row reader:
every record, every refusal (line and reason) and every count must be the same, on the sample and on
damaged downloads whose cells take every form the column-wise path must hand to the row reader."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from tests.store.national_support import damaged_table, sample_table, write_national_csv

from bangfu.registry.imports import row_feed
from bangfu.registry.imports.national_columns import ColumnwiseNational
from bangfu.registry.imports.pipeline import ImportFile

TODAY = dt.date(2026, 12, 1)


def _wire(path: Path, *, columnwise: bool) -> tuple[list[Any], tuple[int, int, int]]:
    with ImportFile(path, "people", today=TODAY) as source:
        if columnwise:
            reader = ColumnwiseNational.open(source)
            assert reader is not None, "the column-wise path refused a file it should read"
            items = [item for batch in reader.wire_batches(7, row_feed._to_wire) for item in batch]
        else:
            batches = row_feed.wire_batches(source, None, 7, columnwise=False)
            items = [item for batch in batches for item in batch]
        return items, (source.counts.records, source.counts.rejected, source.table.blank_rows)


def _same_both_ways(path: Path) -> list[Any]:
    by_columns, counted_by_columns = _wire(path, columnwise=True)
    by_rows, counted_by_rows = _wire(path, columnwise=False)
    assert counted_by_columns == counted_by_rows
    assert len(by_columns) == len(by_rows)
    for left, right in zip(by_columns, by_rows, strict=True):
        assert left == right
    return by_rows


def test_the_sample_reads_the_same_column_wise(tmp_path: Path) -> None:
    results = _same_both_ways(write_national_csv(tmp_path / "人口信息.csv", sample_table(), "utf-8"))
    assert len(results) == 33 and all(accepted for accepted, *_rest in results)


@pytest.mark.parametrize("seed", [2021, 7])
def test_damaged_downloads_read_the_same_column_wise(tmp_path: Path, seed: int) -> None:
    path = write_national_csv(tmp_path / "人口信息.csv", damaged_table(random.Random(seed), 40), "utf-8")
    results = _same_both_ways(path)
    refused = [item for item in results if not item[0]]
    # Both kinds occur, or the comparison proves nothing.
    assert len(results) - len(refused) >= 300 and len(refused) >= 300
    reasons = "".join(item[1][2] for item in refused)
    assert "首次出现在第" in reasons and "同一户只能有一个户主" in reasons


def test_lines_of_other_widths_blank_lines_of_commas_and_crlf_read_the_same(tmp_path: Path) -> None:
    title, header, rows = sample_table()
    path = write_national_csv(tmp_path / "人口信息.csv", (title, header, rows), "utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4] + ",多出的格"  # a filled cell beyond the header: refused by the row reader
    lines[5] = lines[5] + ",,"  # empty cells beyond the header: kept
    lines[6] = ",".join(lines[6].split(",")[:20])  # a short row
    lines.insert(8, "," * (len(header) - 1))  # a row of empty cells: counted as blank
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    results = _same_both_ways(path)
    assert any(not accepted for accepted, *_rest in results)


def test_a_file_the_columns_cannot_read_exactly_goes_row_by_row(tmp_path: Path) -> None:
    title, header, rows = sample_table()
    rows[3][header.index("务工企业名称")] = "太原,晋阳公司"  # written in quotes: a cell holding a comma
    path = write_national_csv(tmp_path / "人口信息.csv", (title, header, rows), "utf-8")
    with ImportFile(path, "people", today=TODAY) as source:
        assert ColumnwiseNational.open(source) is None
    # and the import's reading still takes every row, row by row
    with ImportFile(path, "people", today=TODAY) as source:
        items = [item for batch in row_feed.wire_batches(source, None, 50, columnwise=True) for item in batch]
    assert len(items) == 33 and all(accepted for accepted, *_rest in items)


def test_a_blank_line_above_the_title_keeps_every_line_number(tmp_path: Path) -> None:
    path = write_national_csv(tmp_path / "人口信息.csv", sample_table(), "utf-8")
    path.write_bytes(b"\n" + path.read_bytes())
    lines = []
    for columnwise in (True, False):
        with ImportFile(path, "people", today=TODAY) as source:
            batches = row_feed.wire_batches(source, None, 50, columnwise=columnwise)
            lines.append([item[1][0] for batch in batches for item in batch])
    assert lines[0] == lines[1] == list(range(4, 37))
