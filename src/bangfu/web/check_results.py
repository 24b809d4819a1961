"""The checks page's results on disk: one private folder per run, readable through the page by its account only.

``<data dir>/checks/<run id>/`` holds the masked workbooks ``checks.report`` wrote, ``run.json``
(whose run it is, when, and the summary) and, per rule that found rows, the same rows as JSON lines
with the byte offset of every page: reading page 2,000 of a workbook means parsing the whole of it
(18 s for 100,000 rows), reading it from the lines is one seek. The run id is 128 random bits, but it is not what keeps
others out: every read compares the folder's account with the signed-in one and answers "not
found" otherwise. A run is removed when its account starts a new one or after ``LIFETIME``, so
personal data, masked or not, does not pile up on the server.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bangfu.checks.report import WrittenReport, suspect_header, suspect_rows
from bangfu.checks.run import CheckRun, RuleResult
from bangfu.core.private_files import create_private

LIFETIME = dt.timedelta(hours=24)
META_NAME = "run.json"
PER_PAGE = 50
_RUN_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class RuleSummary:
    id: str
    description: str
    severity: str
    count: int | None  # None: not checked
    not_checked: str
    file: str  # the rule's workbook in the run's folder, "" when it found nothing
    written: int  # rows in that workbook (fewer than count past Excel's limit)
    header: list[str]  # the columns of its rows, the reason column left out
    offsets: list[int]  # where each page of PER_PAGE rows starts in its rows file


@dataclass(frozen=True)
class StoredRun:
    id: str
    folder: Path
    user_id: int
    created: dt.datetime
    file_name: str
    day: str
    rows: int
    rejected: int
    summary_file: str
    rules: list[RuleSummary]

    def rule(self, rule_id: str) -> RuleSummary | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def suspect_rows(self) -> int:
        return sum(r.count or 0 for r in self.rules)


class CheckResults:
    def __init__(self, root: Path, lifetime: dt.timedelta = LIFETIME) -> None:
        self.root = root
        self.lifetime = lifetime

    def new_folder(self, user_id: int) -> tuple[str, Path]:
        """A fresh private folder for a run of ``user_id``; that account's earlier runs and expired runs go."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for run in self._all():
            if run.user_id == user_id or self._expired(run):
                shutil.rmtree(run.folder, ignore_errors=True)
        run_id = secrets.token_hex(16)
        folder = self.root / run_id
        folder.mkdir(mode=0o700)
        return run_id, folder

    def save(
        self, run_id: str, folder: Path, user_id: int, file_name: str, run: CheckRun, written: WrittenReport
    ) -> StoredRun:
        rules = []
        for result in run.results:
            file = written.rule_files[result.rule.id].name if result.rule.id in written.rule_files else ""
            header, offsets = _write_rows(folder, run, result) if file else ([], [])
            rule = result.rule
            count = result.count or 0
            rules.append(
                RuleSummary(
                    rule.id,
                    rule.description,
                    rule.severity_label,
                    result.count,
                    result.not_checked,
                    file,
                    written.truncated.get(rule.id, count),
                    header,
                    offsets,
                )
            )
        stored = StoredRun(
            run_id,
            folder,
            user_id,
            dt.datetime.now(dt.UTC),
            file_name,
            run.day.isoformat(),
            run.loaded.rows,
            len(run.loaded.rejected),
            written.summary.name,
            rules,
        )
        meta: dict[str, Any] = {
            "user_id": user_id,
            "created": stored.created.isoformat(),
            "file_name": file_name,
            "day": stored.day,
            "rows": stored.rows,
            "rejected": stored.rejected,
            "summary_file": stored.summary_file,
            "rules": [r.__dict__ for r in rules],
        }
        with create_private(folder / META_NAME, "w", encoding="utf-8") as stream:
            json.dump(meta, stream, ensure_ascii=False)
        return stored

    def find(self, run_id: str, user_id: int) -> StoredRun | None:
        """The run if it exists, is ``user_id``'s and has not expired; None otherwise (the page says 404)."""
        if not _RUN_ID.fullmatch(run_id):
            return None
        run = self._read(self.root / run_id)
        if run is None or run.user_id != user_id or self._expired(run):
            return None
        return run

    def latest(self, user_id: int) -> StoredRun | None:
        runs = [run for run in self._all() if run.user_id == user_id and not self._expired(run)]
        return max(runs, key=lambda run: run.created, default=None)

    def _expired(self, run: StoredRun) -> bool:
        return dt.datetime.now(dt.UTC) - run.created > self.lifetime

    def _all(self) -> list[StoredRun]:
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            run = self._read(folder)
            if run is not None:
                found.append(run)
            elif folder.is_dir() and not (folder / META_NAME).exists() and _older_than(folder, self.lifetime):
                shutil.rmtree(folder, ignore_errors=True)  # a run that failed half-way
        return found

    @staticmethod
    def _read(folder: Path) -> StoredRun | None:
        meta_path = folder / META_NAME
        if folder.is_symlink() or not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return StoredRun(
            folder.name,
            folder,
            int(meta["user_id"]),
            dt.datetime.fromisoformat(meta["created"]),
            meta["file_name"],
            meta["day"],
            int(meta["rows"]),
            int(meta["rejected"]),
            meta["summary_file"],
            [RuleSummary(**r) for r in meta["rules"]],
        )


def _rows_file(folder: Path, rule_id: str) -> Path:
    return folder / f"rows_{re.sub(r'[^0-9A-Za-z_-]', '_', rule_id)}.jsonl"


def _write_rows(folder: Path, run: CheckRun, result: RuleResult) -> tuple[list[str], list[int]]:
    """The rule's rows (as its workbook has them) one JSON list a line; the header and each page's offset."""
    offsets = []
    with create_private(_rows_file(folder, result.rule.id), "wb") as stream:
        for index, row in enumerate(suspect_rows(run, result)):
            if index % PER_PAGE == 0:
                offsets.append(stream.tell())
            stream.write(json.dumps(row[1:], ensure_ascii=False).encode() + b"\n")
    return suspect_header(run, result)[1:], offsets


def _older_than(folder: Path, lifetime: dt.timedelta) -> bool:
    age = dt.datetime.now(dt.UTC).timestamp() - os.stat(folder).st_mtime
    return age > lifetime.total_seconds()


@dataclass(frozen=True)
class RowsPage:
    columns: list[str]
    rows: list[list[Any]]
    page: int
    pages: int


def rule_rows(run: StoredRun, rule: RuleSummary, page: int) -> RowsPage:
    """One page of a rule's rows (already masked); the reason column left out."""
    pages = max(1, len(rule.offsets))
    page = min(max(page, 1), pages)
    rows: list[list[Any]] = []
    if rule.offsets:
        with _rows_file(run.folder, rule.id).open("rb") as stream:
            stream.seek(rule.offsets[page - 1])
            for _ in range(PER_PAGE):
                line = stream.readline()
                if not line:
                    break
                rows.append(json.loads(line))
    return RowsPage(rule.header, rows, page, pages)
