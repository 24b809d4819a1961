"""Write a check's results: a summary workbook and, per rule that found rows, a workbook of those rows.

Each suspect row is written as the file had it, with the rule's description first and the row's
line number second, so staff can find it in their download. The columns are those that say whose
row it is (县 乡 村 户编号 姓名 证件号码 与户主关系) and those the rule reads, in layout order: the
row's other forty columns would hide what is wrong, and writing them costs ten times the time
when a rule finds hundreds of thousands of rows (openpyxl writes some 10 µs per cell).
ID numbers and phone numbers are masked (``core.citizen_id``); the results are handed round by
e-mail and USB stick. Cells come from an untrusted file, so text that Excel would run as a formula
(= + - @, tab, carriage return first) is written with a leading apostrophe.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped, unused-ignore]

from bangfu.checks.queries import rule_table
from bangfu.checks.run import CheckRun, RuleResult
from bangfu.checks.schema import IDENTITY_FIELDS, REGISTRY_FIELDS
from bangfu.checks.source import text_column
from bangfu.core.disclosure import masked_id_number, masked_phone
from bangfu.core.private_files import create_private
from bangfu.core.spreadsheet_safety import neutralize, safe_row
from bangfu.policy.sql import quote
from bangfu.registry.national_layout import COLUMNS, ColumnKind

SUMMARY_NAME = "疑点核查_汇总.xlsx"
SUMMARY_HEADER = ("规则编号", "说明", "严重程度", "疑点行数", "结果文件", "备注")
REASON_COLUMN = "疑点说明"
LINE_COLUMN = "行号"
# a rule over the registry's persons numbers them in the export's order: no line of the file
REGISTRY_LINE_COLUMN = "登记库序号"
LEDGER_FIELDS = frozenset({"ledger_payments", "ledger_yuan"})
# Excel's last row is 1,048,576; one is the header
MAX_SHEET_ROWS = 1_048_575
FETCH_ROWS = 10_000
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass(frozen=True)
class WrittenReport:
    summary: Path
    rule_files: dict[str, Path]  # rule id -> workbook of its rows
    truncated: dict[str, int]  # rule id -> rows written, where fewer than found


def rule_file_name(result: RuleResult) -> str:
    short = _UNSAFE_FILE_CHARS.sub("_", result.rule.description)[:30].strip("_")
    return f"疑点_{result.rule.id}_{short}.xlsx"


def _header(sheet: Any, labels: tuple[str, ...] | list[str]) -> list[Any]:
    bold = Font(bold=True)
    cells = []
    for label in labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        cells.append(cell)
    return cells


def _save(workbook: Any, path: Path) -> None:
    # the file appears only when complete: a half-written workbook is never left under its real name
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        # The owner's only and never through a symlink: the rows are personal data, masked or not.
        with create_private(partial, "wb") as stream:
            workbook.save(stream)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _displayed(run: CheckRun, result: RuleResult) -> list[tuple[str, str, ColumnKind]]:
    shown = IDENTITY_FIELDS | result.rule.fields
    present: frozenset[str] | dict[str, int] = run.loaded.match.columns
    if result.rule.over == "registry":  # the registry's persons: what the ledger paid them is the point
        present, shown = run.registry_fields, shown | LEDGER_FIELDS
    columns = [(c.field, c.label, c.kind) for c in COLUMNS if c.field in present and c.field in shown]
    # what the registry says about the row, where the rule compares it with the registry
    return columns + [(name, f.label, ColumnKind.TEXT) for name, f in REGISTRY_FIELDS.items() if name in shown]


def _cell(kind: ColumnKind, value: object) -> object:
    if value is None or not isinstance(value, str):  # a number of the registry's (台账发放笔数)
        return value
    if kind is ColumnKind.ID_NUMBER:
        return masked_id_number(value)
    if kind is ColumnKind.PHONE:
        return masked_phone(value)
    return neutralize(value)


def write_report(run: CheckRun, out: Path) -> WrittenReport:
    """Write every workbook into ``out`` (created if needed); returns where each went."""
    out.mkdir(parents=True, exist_ok=True)
    for result in run.results:
        # a rule's file from an earlier run of the same folder would read as a finding of this one
        for stale in out.glob(f"疑点_{result.rule.id}_*.xlsx"):
            stale.unlink()
    rule_files: dict[str, Path] = {}
    truncated: dict[str, int] = {}
    for result in run.suspects:
        path = out / rule_file_name(result)
        written = _write_rule(run, result, path)
        rule_files[result.rule.id] = path
        if written < (result.count or 0):
            truncated[result.rule.id] = written
    summary = out / SUMMARY_NAME
    _write_summary(run, rule_files, truncated, summary)
    return WrittenReport(summary, rule_files, truncated)


def suspect_header(run: CheckRun, result: RuleResult) -> list[str]:
    """The header of a rule's rows: reason, line, then the columns ``suspect_rows`` gives."""
    numbered = REGISTRY_LINE_COLUMN if result.rule.over == "registry" else LINE_COLUMN
    return [REASON_COLUMN, numbered, *(label for _, label, _ in _displayed(run, result))]


def suspect_rows(run: CheckRun, result: RuleResult) -> Iterator[list[object]]:
    """A rule's rows in file order, as its workbook holds them: masked, neutralized, at most an Excel sheet."""
    assert run.connection is not None
    columns = _displayed(run, result)
    selected = ", ".join(f"r.{quote(text_column(field))}" for field, _, _ in columns)
    cursor = run.connection.execute(
        f"SELECT r.row_no, {selected} FROM {rule_table(result.rule)} r JOIN hits h USING (row_no)"
        " WHERE h.rule = ? ORDER BY r.row_no"
        f" LIMIT {MAX_SHEET_ROWS}",
        [result.rule.id],
    )
    reason = result.rule.description
    kinds = [kind for _, _, kind in columns]
    while batch := cursor.fetchmany(FETCH_ROWS):
        for row in batch:
            yield [reason, row[0], *(_cell(kind, value) for kind, value in zip(kinds, row[1:], strict=True))]


def _write_rule(run: CheckRun, result: RuleResult, path: Path) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(result.rule.id)
    sheet.append(_header(sheet, suspect_header(run, result)))
    written = 0
    for row in suspect_rows(run, result):
        sheet.append(row)
        written += 1
    _save(workbook, path)
    return written


def _write_summary(run: CheckRun, rule_files: dict[str, Path], truncated: dict[str, int], path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("汇总")
    sheet.append(_header(sheet, SUMMARY_HEADER))
    for result in run.results:
        rule = result.rule
        note = result.not_checked
        if rule.id in truncated:
            note = f"超过 Excel 行数上限，结果文件只列出前 {truncated[rule.id]} 行"
        output = rule_files[rule.id].name if rule.id in rule_files else ""
        count = result.count if result.checked else None
        sheet.append(safe_row([rule.id, rule.description, rule.severity_label, count, output, note]))
    about = workbook.create_sheet("说明")
    loaded = run.loaded
    for label, value in (
        ("核查文件", loaded.path.name),
        ("核查日期", run.day.isoformat()),
        ("数据行数", loaded.rows),
        ("无法读取的行数", len(loaded.rejected)),
        ("说明", "证件号码、联系电话已按规定打码；疑点仅供核实，不等于错误。"),
    ):
        about.append(safe_row([label, value]))
    if loaded.rejected:
        unread = workbook.create_sheet("无法读取的行")
        unread.append(_header(unread, [LINE_COLUMN, "原因"]))
        for line, reason in loaded.rejected[:MAX_SHEET_ROWS]:
            unread.append([line, reason])
    _save(workbook, path)
