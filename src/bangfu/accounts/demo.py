"""Demo installations: which database ``bangfu demo`` may fill, and which demo accounts are present.

``bangfu demo`` gives five accounts (one with the province's right to unmask) a password printed for
everyone to read. It must never do that to a database in real use, so it runs only on a database
that holds nothing but what a demo puts there:

- no account other than demo accounts (``users.is_demo``);
- no imported file (``import_batches`` is empty): real registry data arrives by import;
- no more households, persons or organizations than the synthetic loads on the audit chain
  (``synth.load`` entries) wrote: rows beyond those came from somewhere else.

A database of an older schema, without ``users.is_demo``, counts each of its accounts as real.
"""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import Connection, func, inspect, select

from bangfu.store.tables import AuditEntry, ImportBatch, User

SYNTHETIC_TABLES = {"households": "户", "persons": "人员", "organizations": "单位"}


def _synthetic_rows(connection: Connection) -> Counter[str]:
    loaded: Counter[str] = Counter()
    for after in connection.scalars(select(AuditEntry.after).where(AuditEntry.action == "synth.load")):
        rows = (json.loads(after) if after else {}).get("rows", {})
        loaded.update({table: int(rows.get(table, 0)) for table in SYNTHETIC_TABLES})
    return loaded


def demo_refusal(connection: Connection) -> str | None:
    """Why ``bangfu demo`` must not touch this database (Chinese), or None when it holds only demo data."""
    from bangfu.store.counts import registry_counts

    tables = set(inspect(connection).get_table_names())
    if "users" not in tables:
        return None  # not initialized yet: a fresh database
    columns = {column["name"] for column in inspect(connection).get_columns("users")}
    real_accounts = select(User.username)
    if "is_demo" in columns:
        real_accounts = real_accounts.where(User.is_demo.is_(False))
    names = list(connection.scalars(real_accounts.order_by(User.id).limit(3)))
    if names:
        return f"数据库中已有非演示账户（如 {'、'.join(names)}），说明它在实际使用"
    if "import_batches" in tables and connection.scalar(select(func.count()).select_from(ImportBatch)):
        return "数据库中有导入过的登记文件，说明它存有真实数据"
    counts = registry_counts(connection)
    loaded = _synthetic_rows(connection) if "audit_log" in tables else Counter()
    beyond = [label for table, label in SYNTHETIC_TABLES.items() if counts.get(table, 0) > loaded[table]]
    if beyond:
        return f"登记库中的{'、'.join(beyond)}多于演示载入的合成数据，说明它存有真实数据"
    return None


def demo_usernames(connection: Connection) -> list[str]:
    """The active demo accounts (published password): ``serve`` warns, or in production refuses."""
    query = select(User.username).where(User.is_demo.is_(True), User.active.is_(True)).order_by(User.id)
    return list(connection.scalars(query))
