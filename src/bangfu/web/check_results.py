"""The checks page's results on disk: one private folder per run, readable through the page by its account only.

``<data dir>/checks/<run id>/`` holds the masked workbooks ``checks.report`` wrote and ``run.json``
(whose run it is, when, and the summary). The run id is 128 random bits, but it is not what keeps
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

from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]

from bangfu.checks.report import WrittenReport
from bangfu.checks.run import CheckRun
from bangfu.core.private_files import create_private

LIFETIME = dt.timedelta(hours=24)
META_NAME = "run.json"
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
        rules = [
            RuleSummary(
                r.rule.id,
                r.rule.description,
                r.rule.severity_label,
                r.count,
                r.not_checked,
                written.rule_files[r.rule.id].name if r.rule.id in written.rule_files else "",
                written.truncated.get(r.rule.id, r.count or 0),
            )
            for r in run.results
        ]
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


def _older_than(folder: Path, lifetime: dt.timedelta) -> bool:
    age = dt.datetime.now(dt.UTC).timestamp() - os.stat(folder).st_mtime
    return age > lifetime.total_seconds()


@dataclass(frozen=True)
class RowsPage:
    columns: list[str]
    rows: list[list[Any]]
    page: int
    pages: int


def rule_rows(run: StoredRun, rule: RuleSummary, page: int, per_page: int = 50) -> RowsPage:
    """One page of a rule's rows, read from its (already masked) workbook; the reason column left out."""
    pages = max(1, -(-rule.written // per_page))
    page = min(max(page, 1), pages)
    workbook = load_workbook(run.folder / rule.file, read_only=True)
    try:
        sheet = workbook.worksheets[0]
        header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True))
        first = 2 + (page - 1) * per_page
        rows = [list(r[1:]) for r in sheet.iter_rows(min_row=first, max_row=first + per_page - 1, values_only=True)]
    finally:
        workbook.close()
    return RowsPage([str(h) for h in header[1:]], rows, page, pages)
