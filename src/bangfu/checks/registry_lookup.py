"""What the registry knows about a downloaded file's rows, added to them when a file is checked with ``--database``.

The registry holds one person per ID number, so the comparison worth making is whether a row's ID
number is registered somewhere else: ``registered_county``, the registry's hukou county of that ID
number (empty when the registry has no such person), for the rules of ``rules/registry.yaml``. The
lookup is scoped like every registry read (``access.scope``): persons outside the scope are not seen.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, func, select

from bangfu.access.scope import Scope
from bangfu.core import regions
from bangfu.core.money import format_yuan
from bangfu.store.tables import BenefitLedgerEntry, Person

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
    return frozenset({"registered_county"})


def add_registry_rows(connection: duckdb.DuckDBPyConnection, engine: Engine, scope: Scope) -> frozenset[str]:
    """Table ``registry_rows``: the registry's persons of the file's counties (inside ``scope``), exported
    as rows are, with whether each is in the file and the ledger's payments to them; returns its fields.

    What the rules ``over: registry`` run on: a person paid from the ledger but absent from the
    download is no row of the file, so only the registry can list them.
    """
    from bangfu.checks.registry_source import load_registry

    names = {name for (name,) in connection.execute("SELECT DISTINCT county FROM rows").fetchall()}
    counties = frozenset(code for code in scope.county_codes if regions.name_of(code) in names)
    exported = load_registry(connection, engine, scope, None, table="registry_rows", counties=counties)
    connection.execute("ALTER TABLE registry_rows ADD COLUMN in_download BOOLEAN")
    connection.execute(
        "UPDATE registry_rows SET in_download = UPPER(id_number) IN "
        "(SELECT UPPER(id_number) FROM rows WHERE id_number IS NOT NULL)"
    )
    paid = (
        select(Person.id_number, func.count(), func.sum(BenefitLedgerEntry.amount_fen))
        .join(BenefitLedgerEntry, BenefitLedgerEntry.person_id == Person.id)
        .where(scope.persons(), Person.hukou_region.in_(counties))
        .group_by(Person.id_number)
    )
    with engine.connect() as database:
        payments = database.execute(paid).all()
    ledger = pa.table(  # noqa: F841
        {
            "id_number": pa.array([number for number, _, _ in payments], pa.string()),
            "payments": pa.array([int(n) for _, n, _ in payments], pa.int64()),
            # the sum of corrections may be any integer of fen; shown in yuan as the ledger pages do
            "yuan": pa.array([format_yuan(int(fen or 0)) for _, _, fen in payments], pa.string()),
        }
    )
    connection.execute("ALTER TABLE registry_rows ADD COLUMN ledger_payments BIGINT DEFAULT 0")
    connection.execute("ALTER TABLE registry_rows ADD COLUMN ledger_yuan VARCHAR")
    connection.execute(
        "UPDATE registry_rows SET ledger_payments = ledger.payments, ledger_yuan = ledger.yuan "
        "FROM ledger WHERE registry_rows.id_number = ledger.id_number"
    )
    return exported.fields | {"in_download", "ledger_payments", "ledger_yuan"}
