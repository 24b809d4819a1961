"""The name index of many persons at once: ``persons.name_sort`` and ``person_name_terms`` rebuilt in SQL.

For the back-fill of migration 0010 and after a bulk load of millions of persons. Names repeat (a
county has many 王伟), so keys are computed once per distinct name in Python (pypinyin is no SQL
function), sent to a temporary table through the bulk sinks, and joined back onto ``persons`` by two
set statements that PostgreSQL and SQLite (3.33 and later, for UPDATE … FROM) both run. Writers of a
few persons at a time keep the index themselves (the ORM events in ``tables``, the import's writer).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Table, delete, insert, select, text, update

from bangfu.core import name_keys
from bangfu.store.bulk_sinks import PostgresCopy, SQLiteBatches
from bangfu.store.tables import Person, PersonNameTerm, name_term_rows

_NAMES_AT_ONCE = 200_000  # distinct names whose keys are held in memory together


def _sink(connection: Connection) -> PostgresCopy | SQLiteBatches:
    return PostgresCopy(connection) if connection.dialect.name == "postgresql" else SQLiteBatches(connection)


def _create_scratch(connection: Connection) -> None:
    temporary = "TEMPORARY" if connection.dialect.name == "postgresql" else "TEMP"
    for table, column in (("name_sort_keys", "sort_key"), ("name_term_keys", "term")):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql(f"CREATE {temporary} TABLE {table} (name VARCHAR(64), {column} VARCHAR(255))")
    connection.exec_driver_sql("CREATE INDEX ix_name_sort_keys_name ON name_sort_keys (name)")


def sort_keys_of(names: pa.Array) -> pa.Array:
    """``name_keys.sort_key`` of each name of an Arrow column, computed once per distinct name."""
    encoded = pc.dictionary_encode(names)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    keys = pa.array([name_keys.sort_key(name) for name in encoded.dictionary.to_pylist()], type=pa.string())
    return keys.take(encoded.indices)


def _send_keys(connection: Connection, names: list[str], sort_keys: bool) -> None:
    sink = _sink(connection)
    if sort_keys:
        sink.write("name_sort_keys", pa.table({"name": names, "sort_key": [name_keys.sort_key(n) for n in names]}))
    owners: list[str] = []
    terms: list[str] = []
    for name in names:
        found = name_keys.sorted_terms(name)
        owners.extend([name] * len(found))
        terms.extend(found)
    sink.write("name_term_keys", pa.table({"name": owners, "term": terms}))


def rebuild_name_index(connection: Connection, *, first_id: int = 1, sort_keys: bool = True) -> int:
    """Recompute the name keys of every person whose id is ``first_id`` or more; the terms written.

    Runs in the caller's transaction. Persons below ``first_id`` are left as they are (a load that
    appends indexes only its own rows). ``sort_keys=False`` leaves ``persons.name_sort`` to a writer that
    wrote it with the rows (updating millions of rows again would rewrite them all on PostgreSQL).
    """
    _create_scratch(connection)
    parameters = {"first": first_id}
    names = list(connection.scalars(text("SELECT DISTINCT name FROM persons WHERE id >= :first"), parameters))
    for start in range(0, len(names), _NAMES_AT_ONCE):
        _send_keys(connection, names[start : start + _NAMES_AT_ONCE], sort_keys)
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE name_sort_keys, name_term_keys")  # a temporary table has no statistics
    if sort_keys:
        connection.execute(
            text(
                "UPDATE persons SET name_sort = k.sort_key FROM name_sort_keys AS k "
                "WHERE k.name = persons.name AND persons.id >= :first"
            ),
            parameters,
        )
    connection.execute(text("DELETE FROM person_name_terms WHERE person_id >= :first"), parameters)
    # In index order: each page of the primary key is filled once, not revisited.
    inserted = connection.execute(
        text(
            "INSERT INTO person_name_terms (term, hukou_region, person_id) "
            "SELECT k.term, p.hukou_region, p.id FROM persons AS p JOIN name_term_keys AS k ON k.name = p.name "
            "WHERE p.id >= :first ORDER BY k.term, p.hukou_region, p.id"
        ),
        parameters,
    ).rowcount
    for table in ("name_sort_keys", "name_term_keys"):
        connection.exec_driver_sql(f"DROP TABLE {table}")
    return int(inserted)


def index_persons(connection: Connection, person_ids: Iterable[int]) -> None:
    """Recompute the name keys of a few persons, for a writer of ``persons`` below the ORM and the import."""
    persons = Person.__table__
    terms = PersonNameTerm.__table__
    assert isinstance(persons, Table) and isinstance(terms, Table)
    ids = list(person_ids)
    rows = connection.execute(
        select(persons.c.id, persons.c.name, persons.c.hukou_region).where(persons.c.id.in_(ids))
    ).all()
    connection.execute(delete(terms).where(terms.c.person_id.in_(ids)))
    for row in rows:
        connection.execute(update(persons).where(persons.c.id == row.id).values(name_sort=name_keys.sort_key(row.name)))
        connection.execute(insert(terms), name_term_rows(row.id, row.name, row.hukou_region))
