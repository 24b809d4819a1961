"""Bulk loading of a synthetic population (the Parquet folder of ``bangfu synth``) into the registry.

One transaction: it sees a registry that is empty, or is told to append, and either every row is
loaded or none. Chunks of each Parquet file are mapped onto the store's tables (``people``,
``organizations``) and handed to a sink (``store.bulk_sinks``): PostgreSQL receives them through
``COPY … FROM STDIN`` as CSV that Arrow writes in C++, SQLite through batched ``executemany``. Rows
go in below the ORM: its per-object identity check (``fill_from_id_number``) would cost more than
the load, and the generator makes every ID number valid and consistent with the birth date and sex
by construction (a test checks every loaded person).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, select

from bangfu.store.bulk_sinks import Sink, open_sink
from bangfu.store.counts import KEYED, RegistryNotEmptyError, registry_counts
from bangfu.store.migrate import require_head
from bangfu.store.name_index import rebuild_name_index
from bangfu.store.tables import Organization, Person
from bangfu.synth.registry_load.organizations import OrganizationRows
from bangfu.synth.registry_load.people import PersonRows
from bangfu.synth.registry_load.rows import id_number_keys

BATCH_ROWS = 250_000
# Tables the load writes.
LOADED_TABLES = (
    "households",
    "persons",
    "person_categories",
    "employment_spells",
    "training_records",
    "organizations",
    "organization_recognitions",
    "organization_trainees",
    "benefit_ledger",
    "person_name_terms",
)

Mapper = Callable[[pa.Table, np.random.Generator], dict[str, pa.Table]]


def _one(table: str, method: Callable[[pa.Table, np.random.Generator], pa.Table]) -> Mapper:
    return lambda chunk, rng: {table: method(chunk, rng)}


@dataclass
class _Mapping:
    people: PersonRows
    organizations: OrganizationRows

    def streams(self) -> tuple[tuple[str, Mapper], ...]:
        """Parquet file → what its chunks become, in an order that puts parents before children."""
        people, organizations = self.people, self.organizations
        return (
            ("persons", people.persons),
            ("employment", _one("employment_spells", people.employment)),
            ("training", _one("training_records", people.training)),
            ("received", _one("benefit_ledger", people.ledger)),
            ("organizations", organizations.organizations),
            ("trainees", _one("organization_trainees", organizations.trainees)),
            ("org_received", _one("benefit_ledger", organizations.ledger)),
        )


@dataclass
class LoadResult:
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOADED_TABLES, 0))
    seconds: float = 0.0


def _batches(path: Path, batch_rows: int) -> Iterator[pa.Table]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        yield pa.Table.from_batches([batch])


def _existing_keys(connection: Connection, mapping: _Mapping) -> None:
    """Appending: the ID numbers and credit codes already registered are taken."""
    numbers = select(Person.id_number).execution_options(yield_per=BATCH_ROWS)
    for row_chunk in connection.execute(numbers).partitions():
        mapping.people.id_numbers.add(id_number_keys(np.array([r[0] for r in row_chunk], dtype="U18")))
    codes = connection.scalars(select(Organization.credit_code)).all()
    mapping.organizations.credit_codes.add(np.array(codes, dtype="U18"))


def _refuse_unless_loadable(connection: Connection, append: bool) -> dict[str, int]:
    require_head(connection)
    counts = registry_counts(connection)
    if any(counts.values()) and not append:
        raise RegistryNotEmptyError(counts)
    return counts


def check_loadable(connection: Connection, *, append: bool = False) -> None:
    """Raise now what ``load_population`` would raise before loading, so a caller can fail fast."""
    _refuse_unless_loadable(connection, append)


def _prepare(connection: Connection, sink: Sink, mapping: _Mapping, append: bool) -> None:
    sink.lock(list(KEYED))
    counts = _refuse_unless_loadable(connection, append)
    if any(counts.values()):
        _existing_keys(connection, mapping)
    offsets = sink.id_offsets(list(KEYED))
    mapping.people.next_household = offsets["households"] + 1
    mapping.people.offset = offsets["persons"]
    mapping.organizations.offset = offsets["organizations"]
    if not any(counts.values()):
        sink.set_aside_checks(LOADED_TABLES)


def load_population(
    connection: Connection,
    data_dir: Path,
    *,
    seed: int,
    year: int,
    append: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> LoadResult:
    """Load the population tables in ``data_dir`` into the registry on ``connection``, in one transaction
    (the connection must not be in one already).

    ``seed`` draws the registry-only facts (households, phones, …); ``year`` is the data year of the
    population, before which every category and recognition period starts.
    """
    started = time.perf_counter()
    result = LoadResult()
    mapping = _Mapping(PersonRows(year=year, seed=seed), OrganizationRows(year=year, seed=seed))
    with open_sink(connection) as sink, connection.begin():
        _prepare(connection, sink, mapping, append)
        for stream, (name, mapper) in enumerate(mapping.streams()):
            for index, chunk in enumerate(_batches(data_dir / f"{name}.parquet", batch_rows)):
                # Its own stream per chunk, as in the generator: output depends on seed and chunk size.
                rng = np.random.default_rng([seed, 2, stream, index])
                for table, rows in mapper(chunk, rng).items():
                    sink.write(table, rows)
                    result.rows[table] += rows.num_rows
        # The name index in SQL, once per distinct name, before the checks set aside come back (ADR 0025).
        terms = rebuild_name_index(connection, first_id=mapping.people.offset + 1, sort_keys=False)
        result.rows["person_name_terms"] = terms
        sink.finish(list(KEYED), LOADED_TABLES)
    result.seconds = time.perf_counter() - started
    return result
