"""Import one county file into the registry: every row inserted, updated, left unchanged or refused.

The whole file is one transaction. Rows are validated as they stream (``imports.ImportFile``, in a
worker process for a large file: ``row_feed``) and written in batches (``upsert``): each batch reads
the registered rows under its keys with a few queries and writes with a few bulk statements, so a
million rows take bounded memory. If anything fails part-way (the database, the disk, a bug), the
transaction rolls back and the rejects file is removed: the registry is exactly as before. Refused
rows go to a rejects CSV that county staff correct and import again; the outcomes always add up to
the rows read, which is checked before committing.
"""

from __future__ import annotations

import datetime as dt
import getpass
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bangfu.audit import log as audit
from bangfu.registry.imports.absent_file import write_absent
from bangfu.registry.imports.import_log import ImportLog, now, sha256_of
from bangfu.registry.imports.pipeline import ImportFile
from bangfu.registry.imports.records import Record
from bangfu.registry.imports.rejects_file import RejectsFile, writable_folder
from bangfu.registry.imports.row_feed import (
    WORKER_MIN_BYTES,
    InProcessFeed,
    Original,
    WorkerFeed,
    original_cells,
    worker_available,
)
from bangfu.registry.imports.rows import Rejection
from bangfu.registry.imports.upsert import WRITERS
from bangfu.registry.imports.upsert.base import INSERTED, REJECTED, UNCHANGED, UPDATED, BatchWriter, Outcome
from bangfu.registry.imports.upsert.references import defer_reference_checks
from bangfu.store.db import unit_of_work
from bangfu.store.migrate import require_head

__all__ = ["BATCH_ROWS", "KINDS", "ImportCountError", "ImportReport", "import_file"]

BATCH_ROWS = 5_000
KINDS = tuple(WRITERS)
# Kinds whose files may carry a 姓名 column beside the ID number, kept only to check who is meant.
_CHECKED_NAMES = frozenset({"employment", "training"})
# SQLite's default page cache is 2 MB; inserting a million random ID numbers into the unique index
# then reads most pages back from the OS again and again. 256 MB keeps the indexes' hot pages.
SQLITE_CACHE_KIB = 256 * 1024

Target = Engine | sessionmaker[Session]
Feed = InProcessFeed | WorkerFeed


class ImportCountError(RuntimeError):
    """The outcomes do not add up to the rows read: a bug, so the import is rolled back."""


@dataclass(frozen=True)
class ImportReport:
    kind: str
    file: Path
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    conflicts: int
    rejects_file: Path | None
    batch_id: int
    blank_rows: int
    warnings: tuple[str, ...]
    encoding: str | None
    earlier_import_at: dt.datetime | None
    seconds: float
    # The header's layout ("" for Bangfu's own, "national" for the monitoring system's download)
    layout: str = ""
    # Registered persons of the covered counties the download no longer lists (national layout only)
    absent: int = 0
    absent_file: Path | None = None

    def summary(self) -> dict[str, Any]:
        """The machine-readable summary (``bangfu import --json``)."""
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "absent": self.absent,
            "absent_file": str(self.absent_file) if self.absent_file else None,
        }


class _Tally:
    def __init__(self) -> None:
        self.counts = dict.fromkeys((INSERTED, UPDATED, UNCHANGED, REJECTED), 0)
        self.conflicts = 0

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.status] += 1
        self.conflicts += outcome.conflict

    def check(self, read: int) -> None:
        if sum(self.counts.values()) != read:
            raise ImportCountError(f"outcomes {self.counts} do not add up to the {read} rows read")


@contextmanager
def _transaction(target: Target) -> Iterator[Connection]:
    if isinstance(target, Engine):
        with target.begin() as connection:
            yield connection
    else:
        with unit_of_work(target) as session:
            yield session.connection()


@contextmanager
def _large_cache(connection: Connection) -> Iterator[None]:
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous or 0)}")


def _lock(connection: Connection, table: str) -> None:
    # Two imports of one kind at once would race on new keys (and on the ids drawn for them);
    # PostgreSQL serializes them here while reads go on. SQLite has one writer at a time anyway.
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))


def _write(feed: Feed, writer: BatchWriter[Any], rejects: RejectsFile, log: ImportLog) -> _Tally:
    tally = _Tally()
    for batch in feed.batches():
        records: list[Record] = []
        originals: list[Original] = []
        names: list[str | None] = []
        for result, original, name in batch:
            if isinstance(result, Rejection):
                rejects.write(result)
                tally.add(Outcome.rejected(result.reason_zh))
            else:
                records.append(result)
                originals.append(original)
                names.append(name)
        outcomes = writer.apply(records, names)
        for record, original, outcome in zip(records, originals, outcomes, strict=True):
            tally.add(outcome)
            if outcome.status == REJECTED:
                rejects.write(Rejection(record.line, original_cells(original), outcome.reason or ""))
        log.changes([record.line for record in records], outcomes)
    return tally


def operator() -> str:
    """The operating-system account running the command, for the audit log ("unknown" if none)."""
    try:
        return getpass.getuser()[:48]
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "unknown"


def import_file(
    target: Target,
    kind: str,
    path: Path | str,
    rejects_dir: Path | str | None = None,
    *,
    today: dt.date | None = None,
    batch_size: int = BATCH_ROWS,
    sheet: str | None = None,
    worker: bool | None = None,
) -> ImportReport:
    """Import ``path`` (CSV or XLSX) of ``kind`` (people, households, organizations, employment, training).

    Raises ``ReadError`` or ``HeaderError`` (nothing read, nothing written), ``SchemaNotCurrentError``
    when ``bangfu init`` has not run, and lets any database error through after rolling back.
    Refused rows go to ``<file>_拒绝_<time>.csv`` in ``rejects_dir`` (default: the file's folder).
    ``worker`` reads the file in a second process (default: for files of 4 MB and more).
    """
    if kind not in WRITERS:
        raise ValueError(f"未知的导入类型“{kind}”，可选：{'、'.join(KINDS)}")
    source_path = Path(path)
    day = today or dt.date.today()
    clock = time.perf_counter()
    started = now()
    with ImportFile(source_path, kind, sheet=sheet, today=day) as source:
        folder = writable_folder(Path(rejects_dir) if rejects_dir is not None else source_path.parent)
        digest = sha256_of(source_path)
        name_label = source.columns.labels.get("name") if kind in _CHECKED_NAMES else None
        if worker is None:
            worker = worker_available() and source_path.stat().st_size >= WORKER_MIN_BYTES
        feed: Feed = (
            WorkerFeed(source_path, kind, sheet, day, name_label, batch_size)
            if worker
            else InProcessFeed(source, name_label, batch_size)
        )
        rejects = RejectsFile(folder, source_path, source.table.header)
        absent_file: Path | None = None
        try:
            with _transaction(target) as connection, _large_cache(connection):
                require_head(connection)
                writer = WRITERS[kind](connection, day)
                _lock(connection, writer.table.name)
                log = ImportLog(connection, kind, source_path.name, digest, started)
                with defer_reference_checks(connection):
                    tally = _write(feed, writer, rejects, log)
                assert feed.stats is not None
                read = feed.stats.records + feed.stats.rejected
                tally.check(read)
                rejects.close()
                absent = writer.absent()
                absent_file = write_absent(folder, source_path, absent)
                log.finish({**tally.counts, "conflicts": tally.conflicts}, rejects.path)
                # Every write is on the audit chain: the batch, what it did, and who ran it (the
                # field-by-field changes are in import_changes, under the same batch id).
                audit.record(
                    connection,
                    actor=f"cli:{operator()}",
                    action=f"import.{kind}",
                    target_type="import_batch",
                    target_id=log.batch_id,
                    after={
                        "file": source_path.name,
                        "sha256": digest,
                        **tally.counts,
                        "conflicts": tally.conflicts,
                        "absent": len(absent),
                    },
                )
        except BaseException:
            rejects.discard()
            if absent_file is not None:
                absent_file.unlink(missing_ok=True)
            raise
        finally:
            feed.close()
            rejects.close()
        return ImportReport(
            kind=kind,
            file=source_path,
            rows=read,
            inserted=tally.counts[INSERTED],
            updated=tally.counts[UPDATED],
            unchanged=tally.counts[UNCHANGED],
            rejected=tally.counts[REJECTED],
            conflicts=tally.conflicts,
            rejects_file=rejects.path,
            batch_id=log.batch_id,
            blank_rows=feed.stats.blank_rows,
            warnings=tuple(source.table.warnings),
            encoding=source.table.encoding_label,
            earlier_import_at=log.earlier_import_at,
            seconds=time.perf_counter() - clock,
            layout=source.columns.layout,
            absent=len(absent),
            absent_file=absent_file,
        )
