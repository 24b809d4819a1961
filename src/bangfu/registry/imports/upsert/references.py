"""Foreign keys of an import's COPYs checked once per import, set-based, on PostgreSQL (ADR 0036).

PostgreSQL checks a foreign key with a trigger per inserted row: a query on the referenced table and a
row lock, about five microseconds each. A national download of a million persons fires about six
million of them (persons → regions twice and households, categories and year facts → persons,
households → regions): half a minute of a two-minute import. The same guarantee costs a second when
checked once, over the rows the import wrote, as one anti-join per foreign key — the batch check
PostgreSQL does not have (dropping the constraints for the load, as its manual suggests, would lock
every reader out of the tables until commit).

So, within one import transaction:
- each COPY into a table with foreign keys runs with ``session_replication_role = replica`` (``SET
  LOCAL``, undone right after the COPY), which skips the per-row triggers of that statement only;
  updates and every other statement keep their triggers;
- before commit, ``verify`` finds, for every foreign key of every table COPYed into, the written rows
  whose reference does not exist (none, unless Bangfu has a bug: the importer resolves every reference
  it writes) and raises, which rolls the import back; it also takes ``FOR KEY SHARE`` on the existing
  rows referenced, the lock the triggers would have taken, so that no one can delete them before commit.

Setting ``session_replication_role`` needs a superuser or, from PostgreSQL 15, ``GRANT SET ON PARAMETER
session_replication_role TO <role>`` (docs/security.md, deployment checklist). Without it the import
runs as before, with the per-row triggers: slower, equally safe. SQLite is unaffected (its checks are
cheap index probes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

_KEY = "bangfu.deferred_references"


class DanglingReferenceError(RuntimeError):
    """Rows an import wrote refer to rows that do not exist: a bug, so the import is rolled back."""


@dataclass
class DeferredReferences:
    """The tables COPYed into without per-row foreign-key triggers, each with the highest id it held before."""

    connection: Connection
    # table name → (table, highest id before this import's first COPY into it)
    written: dict[str, tuple[Table, int]] = field(default_factory=dict)

    @contextmanager
    def copying(self, table: Table) -> Iterator[None]:
        """Around one COPY into ``table``: its row triggers off for that statement only."""
        if not table.foreign_keys:
            yield
            return
        if table.name not in self.written:
            highest = self.connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table.name}").scalar_one()
            self.written[table.name] = (table, int(highest))
        self.connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield
        # Not in a ``finally``: a failed COPY aborts the transaction, whose rollback undoes the setting too.
        self.connection.exec_driver_sql("SET LOCAL session_replication_role = origin")

    def verify(self) -> None:
        """Raise ``DanglingReferenceError`` unless every reference written exists; lock those that existed."""
        dangling = []
        for table, before in self.written.values():
            for key in sorted(table.foreign_keys, key=lambda key: key.parent.name):
                child, parent = key.parent.name, key.column
                parent_table = parent.table.name
                written = f"SELECT {child} FROM {table.name} WHERE id > %(before)s AND {child} IS NOT NULL"
                missing = self.connection.exec_driver_sql(
                    f"SELECT count(*) FROM {table.name} c WHERE c.id > %(before)s AND c.{child} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {parent_table} p WHERE p.{parent.name} = c.{child})",
                    {"before": before},
                ).scalar_one()
                if missing:
                    dangling.append(f"{table.name}.{child} → {parent_table}: {missing}")
                    continue
                # Rows this import inserted into the parent are its own until commit: only the others are locked.
                own = self.written.get(parent_table)
                own_rows = f" AND p.id <= {int(own[1])}" if own is not None else ""
                self.connection.exec_driver_sql(
                    f"SELECT count(*) FROM (SELECT 1 FROM {parent_table} p WHERE p.{parent.name} IN ({written})"
                    f"{own_rows} FOR KEY SHARE OF p) AS locked",
                    {"before": before},
                ).scalar_one()
        if dangling:
            raise DanglingReferenceError("imported rows refer to rows that do not exist: " + "; ".join(dangling))


def deferred(connection: Connection) -> DeferredReferences | None:
    """The deferral ``defer_reference_checks`` turned on for this connection's transaction, if any."""
    found = connection.info.get(_KEY)
    return found if isinstance(found, DeferredReferences) else None


def _may_skip_triggers(connection: Connection) -> bool:
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql("SET LOCAL session_replication_role = origin")
    except DBAPIError:
        savepoint.rollback()  # not a superuser and no SET privilege on the parameter
        return False
    savepoint.commit()
    return True


@contextmanager
def defer_reference_checks(connection: Connection) -> Iterator[DeferredReferences | None]:
    """Within an import's transaction on PostgreSQL: COPYs skip per-row foreign-key triggers, and the
    references are verified when the block ends without error (before the caller commits).

    Yields None (nothing deferred) on SQLite and where the account may not set the parameter.
    """
    if connection.dialect.name != "postgresql" or not _may_skip_triggers(connection):
        yield None
        return
    references = DeferredReferences(connection)
    connection.info[_KEY] = references
    try:
        yield references
        references.verify()
    finally:
        connection.info.pop(_KEY, None)
