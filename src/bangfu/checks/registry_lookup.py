"""What the registry knows about a downloaded file's rows, added to them when a file is checked with ``--database``.

The registry holds one person per ID number, so the comparison worth making is whether a row's ID
number is registered somewhere else: ``registered_county``, the registry's hukou county of that ID
number (empty when the registry has no such person), for the rules of ``rules/registry.yaml``. The
lookup is scoped like every registry read (``access.scope``): persons outside the scope are not seen.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, select

from bangfu.access.scope import Scope
from bangfu.checks.schema import REGISTRY_FIELDS
from bangfu.core import regions
from bangfu.store.tables import Person

# ID numbers per IN list: well under SQLite's 32,766 bound parameters and PostgreSQL's 65,535
LOOKUP_CHUNK = 5_000


def add_registry_fields(connection: duckdb.DuckDBPyConnection, engine: Engine, scope: Scope) -> frozenset[str]:
    """Add ``registered_county`` to table ``rows``; returns the fields added."""
    wanted = [
        number
        for (number,) in connection.execute(
            "SELECT DISTINCT UPPER(id_number) FROM rows WHERE id_number IS NOT NULL"
        ).fetchall()
    ]
    numbers: list[str] = []
    counties: list[str] = []
    with engine.connect() as database:
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            query = select(Person.id_number, Person.hukou_region).where(scope.persons(), Person.id_number.in_(chunk))
            for number, county in database.execute(query):
                numbers.append(number)
                counties.append(regions.name_of(county))
    found = pa.table({"id_number": pa.array(numbers, pa.string()), "county": pa.array(counties, pa.string())})  # noqa: F841
    connection.execute("ALTER TABLE rows ADD COLUMN registered_county VARCHAR")
    connection.execute(
        "UPDATE rows SET registered_county = found.county FROM found WHERE UPPER(rows.id_number) = found.id_number"
    )
    return frozenset(REGISTRY_FIELDS)
