"""The stored population as the Parquet tables the policy engine reads, as of one date.

The tables and columns are exactly those of the fact schema (``policy/facts.py``): each entity's
table (key and fields) and each collection's table (key and row fields). What depends on the date is
decided here: a person's categories are those whose period holds on it (start on or before, end
empty or on or after), and an organization is a recognized employment-assistance base when such a
recognition holds on it. The ledger becomes ``received``: entries of one beneficiary, benefit and
date are netted, so a payment reversed by a correction entry of the same date no longer counts.

Everything is read in one snapshot (one transaction) and streamed in chunks into Parquet.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection

from bangfu.core.categories import CATEGORY_FACTS
from bangfu.policy.facts import ENTITIES, Entity, FactType, Field
from bangfu.store.chunked_reads import query_chunks
from bangfu.store.migrate import require_head
from bangfu.store.tables import DECLARED_COUNTS

ARROW_TYPES = {
    FactType.INT: pa.int64(),
    FactType.BOOL: pa.bool_(),
    FactType.STR: pa.string(),
    FactType.DATE: pa.date32(),
    FactType.STR_LIST: pa.list_(pa.string()),
}
EMPTY_LIST = pa.scalar([], type=pa.list_(pa.string()))


@dataclass(frozen=True)
class Source:
    """Where one Parquet table comes from: a FROM clause and an SQL expression per column."""

    from_clause: str
    columns: dict[str, str]


def _holds(alias: str, day: str) -> str:
    return f"{alias}.start_date <= {day} AND ({alias}.end_date IS NULL OR {alias}.end_date >= {day})"


def _received(key: str) -> Source:
    # Netted per beneficiary, benefit and date: a reversal cancels the payment it corrects, and its
    # negative units cancel the units paid. One entry of unknown units leaves the day's units unknown.
    units = "CAST(CASE WHEN count(units) = count(*) THEN sum(units) END AS BIGINT)"  # PostgreSQL: sum is numeric
    return Source(
        f"benefit_ledger WHERE {key} IS NOT NULL GROUP BY {key}, benefit_id, date HAVING sum(amount_fen) > 0",
        {key: key, "benefit": "benefit_id", "date": "date", "units": units},
    )


def sources(dialect: str, day: dt.date) -> dict[str, Source]:
    """Per Parquet table, its SQL. ``day`` is a date, so its ISO text is safe to inline (COPY takes no parameters)."""
    on = f"'{day.isoformat()}'"  # compares with DATE on PostgreSQL and with ISO text on SQLite
    joined = "string_agg(category, ',')" if dialect == "postgresql" else "group_concat(category, ',')"
    categories = (
        f"SELECT person_id, {joined} AS categories FROM person_categories c WHERE {_holds('c', on)} GROUP BY person_id"
    )
    # 低保 and 特困 (person facts, not category rows) make a person 农村低收入人口 (core/categories.py)
    by_fact = " OR ".join(f"p.{fact} IS TRUE" for fact in CATEGORY_FACTS["rural_low_income"])
    categories_of_day = (
        f"CASE WHEN ({by_fact}) AND (held.categories IS NULL OR held.categories NOT LIKE '%rural_low_income%') "
        "THEN COALESCE(held.categories || ',', '') || 'rural_low_income' ELSE held.categories END"
    )
    recognized = (
        "EXISTS (SELECT 1 FROM organization_recognitions r WHERE r.org_id = o.id "
        f"AND r.recognition = 'employment_base' AND {_holds('r', on)})"
    )
    return {
        "persons": Source(
            f"persons p LEFT JOIN ({categories}) held ON held.person_id = p.id",
            {
                "person_id": "p.id",
                "region": "p.residence_region",
                "categories": categories_of_day,
                "hukou_region": "p.hukou_region",
                "labor_capacity": "p.labor_capacity",
                "birth_date": "p.birth_date",
                # as of the day: a removal recorded after it had not happened yet
                "risk_removed_on": f"CASE WHEN p.risk_removed_on <= {on} THEN p.risk_removed_on END",
            },
        ),
        "employment": Source(
            "employment_spells",
            {
                "person_id": "person_id",
                "start": "start_date",
                "end": "end_date",
                "work_region": "work_region",
                "organized_export": "organized_export",
                "travel_cost_fen": "travel_cost_fen",
            },
        ),
        "training": Source("training_records", {"person_id": "person_id", "start": "start_date", "days": "days"}),
        "received": _received("person_id"),
        "organizations": Source(
            "organizations o",
            {
                "org_id": "o.id",
                "kind": "o.kind",
                "region": "o.region_code",
                "recognized_base": recognized,
                "operating_since": "o.operating_since",
                **{name: f"o.{name}" for name in DECLARED_COUNTS},
            },
        ),
        "trainees": Source(
            "organization_trainees",
            {
                "org_id": "org_id",
                "start": "start_date",
                "months": "months",
                "previously_subsidized": "previously_subsidized",
            },
        ),
        "org_received": _received("org_id"),
    }


def _schema(key: str, fields: dict[str, Field]) -> pa.Schema:
    return pa.schema([pa.field(key, pa.int64()), *(pa.field(f.name, ARROW_TYPES[f.type]) for f in fields.values())])


def fact_schemas() -> dict[str, pa.Schema]:
    """The Parquet table of every entity and collection, with the columns the rules may read."""
    schemas: dict[str, pa.Schema] = {}
    entity: Entity
    for entity in ENTITIES.values():
        schemas[entity.table] = _schema(entity.key, entity.fields)
        for collection in entity.collections.values():
            schemas[collection.table] = _schema(entity.key, collection.fields)
    return schemas


def select_sql(source: Source, schema: pa.Schema) -> str:
    missing = [name for name in schema.names if name not in source.columns]
    if missing:
        raise KeyError(f"导出缺少事实字段 {', '.join(missing)} 的来源：请在 population_export.sources 中补充")
    columns = ", ".join(f'{source.columns[name]} AS "{name}"' for name in schema.names)
    return f"SELECT {columns} FROM {source.from_clause}"


def _as_facts(chunk: pa.Table, schema: pa.Schema) -> pa.Table:
    """Lists arrive as comma-joined text; NULL (nothing held on the day) is the empty list."""
    columns = []
    for fact in schema:
        column = chunk[fact.name]
        if pa.types.is_list(fact.type):
            column = pc.fill_null(pc.split_pattern(column, ","), EMPTY_LIST)
        columns.append(column)
    return pa.table(columns, schema=schema)


@dataclass
class ExportResult:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _export_table(connection: Connection, sql: str, schema: pa.Schema, path: Path) -> int:
    text_schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_list(f.type) else f for f in schema])
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in query_chunks(connection, sql, text_schema):
            writer.write_table(_as_facts(chunk, schema))
            rows += chunk.num_rows
    return rows


def export_population(connection: Connection, out_dir: Path, day: dt.date) -> ExportResult:
    """Write the population tables of ``day`` to ``out_dir`` (persons.parquet, employment.parquet, …).

    ``connection`` must not be in a transaction: the export reads everything in one of its own.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ExportResult()
    if connection.dialect.name == "postgresql":
        # One snapshot for every table: the population is consistent even while others write.
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    with connection.begin():
        require_head(connection)
        if connection.dialect.name == "postgresql":
            # Grouping millions of categories and ledger rows in memory instead of spilling to disk.
            connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        table_sources = sources(connection.dialect.name, day)
        for table, schema in fact_schemas().items():
            sql = select_sql(table_sources[table], schema)
            result.rows[table] = _export_table(connection, sql, schema, out_dir / f"{table}.parquet")
    result.seconds = time.perf_counter() - started
    return result
