"""What every kind's writer shares: outcomes, the per-batch decide-then-write flow, and refusals.

A writer receives one batch of validated records (a few thousand), reads the rows already registered
under their natural keys with a handful of queries, decides each record's fate in Python, and then
writes the batch with a few bulk statements (``bulk_io``: COPY on PostgreSQL, executemany on SQLite).
Nothing is kept between batches but small lookup caches, so memory does not grow with the file.

Two rules shape every decision:
- an empty cell never clears a registered value (an import adds and corrects, it does not erase);
- a record that contradicts the registry about who someone is (another name for the same ID number)
  is refused, never written over.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import Column, Connection, Table, bindparam, update
from sqlalchemy.orm import DeclarativeBase

from bangfu.registry.imports.records import Record
from bangfu.registry.imports.upsert.bulk_io import IdAllocator, insert_rows

R = TypeVar("R", bound=Record)

INSERTED = "inserted"
UPDATED = "updated"
UNCHANGED = "unchanged"
REJECTED = "rejected"

RENAME_HINT = "（如属更名请先在系统中变更）"
DUPLICATE_IN_BATCH = "文件内重复记录：与前面一行指向同一条登记记录"


def conflict_reason(label: str, given: str, registered: str) -> str:
    return f"与已登记信息冲突：{label} {given} ≠ 已登记 {registered}{RENAME_HINT}"


@dataclass(frozen=True, slots=True)
class Change:
    """One column of a registered row that an import changed, as stored before and after."""

    field: str
    before: object
    after: object


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    reason: str | None = None
    conflict: bool = False
    row_id: int | None = None
    changes: tuple[Change, ...] = ()

    @classmethod
    def rejected(cls, reason: str, *, conflict: bool = False) -> Outcome:
        return cls(REJECTED, reason, conflict)


class _Cleared:
    """``wanted`` says a column is now empty: a roster that states "no" where the registry has a value
    (风险是否已消除 = 否 after 是), as opposed to an empty cell, which says nothing."""

    def __repr__(self) -> str:
        return "CLEARED"


CLEARED: Any = _Cleared()


@dataclass(frozen=True, slots=True)
class AbsentPerson:
    """A registered person a complete download should have listed and did not (never deleted)."""

    name: str
    id_number: str
    county: str
    household_number: str | None
    person_number: str | None


INSERTED_OUTCOME = Outcome(INSERTED)
UNCHANGED_OUTCOME = Outcome(UNCHANGED)


def table_of(model: type[DeclarativeBase]) -> Table:
    """The Core table of a model: writers use Core, the ORM's per-object work costs more than the import."""
    return cast(Table, model.__table__)


def too_long(value: str | None, limit: int, what: str) -> str | None:
    """The refusal for text longer than its column holds (PostgreSQL would fail the whole file on it)."""
    if value is not None and len(value) > limit:
        return f"{what}超过 {limit} 个字（{len(value)} 个字），请核对"
    return None


def column_limit(column: Column[Any]) -> int:
    length = getattr(column.type, "length", None)
    if not isinstance(length, int):
        raise TypeError(f"{column} has no length")
    return length


class BatchWriter(ABC, Generic[R]):
    """Insert-or-update of one kind, keyed by its natural key, one batch at a time.

    Subclasses say which table and columns they own and supply the hooks below; ``apply`` runs the
    flow and returns one ``Outcome`` per record, in order.
    """

    table: ClassVar[Table]
    # Columns an import may change on a registered row; ``wanted`` gives their new values.
    compared: ClassVar[tuple[str, ...]]

    def __init__(self, connection: Connection, today: dt.date) -> None:
        self.connection = connection
        self.today = today
        self._ids = IdAllocator(connection, self.table)

    # ------------------------------------------------------------------ hooks

    def refuse(self, record: R) -> str | None:
        """A reason to refuse the record before looking at the database (text too long, …)."""
        return None

    def prepare(self, records: Sequence[R], claimed_names: Sequence[str | None]) -> None:
        """Read what the batch refers to: registered rows by key, persons, households, …"""

    def resolve(self, record: R, claimed_name: str | None) -> Outcome | None:
        """A refusal for a record that refers to something unknown or contradicts the registry."""
        return None

    @abstractmethod
    def key(self, record: R) -> Hashable: ...

    def sort_key(self, record: R) -> Any:
        """The order new rows are inserted in (the natural key's order where it is comparable)."""
        return record.line

    @abstractmethod
    def registered(self, key: Hashable) -> Mapping[str, Any] | None:
        """The registered row under ``key`` (as read in ``prepare``), or None."""
        ...

    def contradicts(self, record: R, row: Mapping[str, Any]) -> str | None:
        """A conflict reason when the record and the registered row disagree about identity."""
        return None

    @abstractmethod
    def wanted(self, record: R) -> dict[str, Any]:
        """New values of the ``compared`` columns; None means "not given", which keeps the old value."""
        ...

    def same(self, column: str, registered: Any, given: Any) -> bool:
        """Whether a given value says nothing new about the registered one (equal, by default)."""
        return bool(registered == given)

    def related_changes(self, record: R, row: Mapping[str, Any]) -> list[Change]:
        """Changes outside the row itself (a person's categories), planned now and written in ``finish``."""
        return []

    def insert_values(self, record: R) -> dict[str, Any]:
        """A new row's values by column (the same columns for every record of a kind)."""
        raise NotImplementedError(f"{type(self).__name__} gives neither insert_values nor insert_rows_of")

    def insert_rows_of(self, records: Sequence[R]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        """The columns and rows (without ids) inserting ``records``; by default from ``insert_values``."""
        values = [self.insert_values(record) for record in records]
        return tuple(values[0]), [tuple(row.values()) for row in values]

    def inserted(self, records: Sequence[R], ids: Sequence[int]) -> None:
        """Called with the ids of the batch's new rows, once inserted (to add their related rows)."""

    def finish(self) -> None:
        """Write what ``related_changes`` and ``inserted`` planned."""

    def absent(self) -> list[AbsentPerson]:
        """Once every batch is written: who a complete download should have listed and did not."""
        return []

    # ------------------------------------------------------------------ flow

    def apply(self, records: Sequence[R], claimed_names: Sequence[str | None]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(records)
        for index, record in enumerate(records):
            if (reason := self.refuse(record)) is not None:
                outcomes[index] = Outcome.rejected(reason)
        live = [index for index, outcome in enumerate(outcomes) if outcome is None]
        self.prepare([records[i] for i in live], [claimed_names[i] for i in live])

        keys_seen: set[Hashable] = set()
        new: list[R] = []
        updates: list[dict[str, Any]] = []
        for index in live:
            record = records[index]
            if (refused := self.resolve(record, claimed_names[index])) is not None:
                outcomes[index] = refused
                continue
            key = self.key(record)
            if key in keys_seen:
                # The file half refuses repeats already; this only guards against its hashed keys.
                outcomes[index] = Outcome.rejected(DUPLICATE_IN_BATCH)
                continue
            keys_seen.add(key)
            row = self.registered(key)
            if row is None:
                new.append(record)
                outcomes[index] = INSERTED_OUTCOME
                continue
            if (reason := self.contradicts(record, row)) is not None:
                outcomes[index] = Outcome.rejected(reason, conflict=True)
                continue
            changes = self._column_changes(record, row)
            if changes:
                updates.append(self._update_parameters(row, changes))
            changes.extend(self.related_changes(record, row))
            outcomes[index] = (
                Outcome(UPDATED, row_id=row["id"], changes=tuple(changes)) if changes else UNCHANGED_OUTCOME
            )

        if new:
            self._insert(new)
        if updates:
            statement = (
                update(self.table)
                .where(self.table.c.id == bindparam("row_id"))
                .values({column: bindparam(f"new_{column}") for column in self.compared})
            )
            self.connection.execute(statement, updates)
        self.finish()
        decided = [outcome for outcome in outcomes if outcome is not None]
        if len(decided) != len(records):
            raise RuntimeError("a record of the batch was left without an outcome")
        return decided

    def _insert(self, records: list[R]) -> None:
        # In key order: neighbouring keys land on the same index pages, which PostgreSQL's COPY and
        # SQLite's inserts both feel (a quarter less time than in file order).
        records.sort(key=self.sort_key)
        ids = self._ids.take(len(records))
        columns, values = self.insert_rows_of(records)
        rows = [(row_id, *row) for row_id, row in zip(ids, values, strict=True)]
        insert_rows(self.connection, self.table, ("id", *columns), rows)
        self.inserted(records, ids)

    def _update_parameters(self, row: Mapping[str, Any], changes: list[Change]) -> dict[str, Any]:
        # One executemany needs the same columns in every row, so unchanged ones are set to themselves.
        values = {column: row[column] for column in self.compared} | {change.field: change.after for change in changes}
        return {"row_id": row["id"], **{f"new_{column}": value for column, value in values.items()}}

    def _column_changes(self, record: R, row: Mapping[str, Any]) -> list[Change]:
        changes = []
        for column, value in self.wanted(record).items():
            if value is None:
                continue
            after = None if value is CLEARED else value
            if not self.same(column, row[column], after):
                changes.append(Change(column, row[column], after))
        return changes
