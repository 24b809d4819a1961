"""The record an import leaves in the database: its ``import_batches`` row and the fields it changed."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bangfu.registry.imports.upsert.base import UPDATED, Outcome, table_of
from bangfu.store.tables import ImportBatch, ImportChange

BATCHES = table_of(ImportBatch)
CHANGES = table_of(ImportChange)
_HASH_CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ImportLog:
    """Opens the batch row at the start of the transaction, logs changes batch by batch, closes it."""

    def __init__(self, connection: Connection, kind: str, file_name: str, sha256: str, started: dt.datetime) -> None:
        self.connection = connection
        self.earlier_import_at = connection.scalar(
            select(BATCHES.c.finished_at)
            .where(BATCHES.c.sha256 == sha256, BATCHES.c.kind == kind, BATCHES.c.finished_at.is_not(None))
            .order_by(BATCHES.c.id.desc())
            .limit(1)
        )
        values = {"kind": kind, "file_name": file_name[:255], "sha256": sha256, "started_at": started}
        self.batch_id: int = connection.execute(insert(BATCHES).values(values)).inserted_primary_key[0]  # type: ignore[index]

    def changes(self, lines: Sequence[int], outcomes: Sequence[Outcome]) -> None:
        rows: list[dict[str, Any]] = [
            {
                "batch_id": self.batch_id,
                "line": line,
                "row_id": outcome.row_id,
                "field": change.field,
                "before": as_text(change.before),
                "after": as_text(change.after),
            }
            for line, outcome in zip(lines, outcomes, strict=True)
            if outcome.status == UPDATED
            for change in outcome.changes
        ]
        if rows:
            self.connection.execute(insert(CHANGES), rows)

    def finish(self, counts: dict[str, int], rejects_file: Path | None) -> None:
        self.connection.execute(
            update(BATCHES)
            .where(BATCHES.c.id == self.batch_id)
            .values(finished_at=now(), rejects_file=str(rejects_file) if rejects_file else None, **counts)
        )
