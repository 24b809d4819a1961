"""One person or organization of the registry as the case JSON of ``bangfu policy evaluate``.

The rows come from the same SQL that exports the whole population (``population_export``),
narrowed to one key: a single case read from the database and the same person evaluated in a
population run see exactly the same facts, by construction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection, text

from bangfu.core import citizen_id
from bangfu.core.disclosure import masked_id_number
from bangfu.policy.facts import ENTITIES, Entity, Field
from bangfu.registry.population_export import fact_schemas, select_sql, sources


class NotRegisteredError(LookupError):
    """No person or organization with that key is registered."""


def _narrowed(connection: Connection, table: str, key: str, key_value: int, day: dt.date) -> list[dict[str, Any]]:
    sql = select_sql(sources(connection.dialect.name, day)[table], fact_schemas()[table])
    rows = connection.execute(text(f'SELECT * FROM ({sql}) AS facts WHERE facts."{key}" = :key'), {"key": key_value})
    return [dict(row._mapping) for row in rows]


def _json_value(value: Any, arrow_type: pa.DataType) -> Any:
    """A database value as the case JSON carries it (SQLite gives dates as text and booleans as 0/1)."""
    if value is None:
        return [] if pa.types.is_list(arrow_type) else None
    if pa.types.is_list(arrow_type):
        return sorted(part for part in str(value).split(",") if part)
    if pa.types.is_boolean(arrow_type):
        return bool(value)
    if pa.types.is_date(arrow_type):
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    return value


def _place(body: dict[str, Any], f: Field, value: Any) -> None:
    target = body
    for part in f.path[:-1]:
        target = target.setdefault(part, {})
    target[f.path[-1]] = value


def _body(row: dict[str, Any], fields: dict[str, Field], schema: pa.Schema) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for f in fields.values():
        if f.path[0] != "$case":
            _place(body, f, _json_value(row[f.name], schema.field(f.name).type))
    return body


def stored_case(connection: Connection, entity_name: str, key_value: int, day: dt.date) -> dict[str, Any]:
    """The case of one registered person (``person``, by persons.id) or organization (by organizations.id)."""
    entity: Entity = ENTITIES[entity_name]
    schemas = fact_schemas()
    found = _narrowed(connection, entity.table, entity.key, key_value, day)
    if not found:
        raise NotRegisteredError(key_value)
    row = found[0]
    body = _body(row, entity.fields, schemas[entity.table])
    for name, collection in entity.collections.items():
        schema = schemas[collection.table]
        items = [
            _body(item, collection.fields, schema)
            for item in _narrowed(connection, collection.table, entity.key, key_value, day)
        ]
        body[name] = sorted(items, key=lambda item: [str(v) for v in item.values()])
    case: dict[str, Any] = {"date": day.isoformat()}
    region = next((row[f.name] for f in entity.fields.values() if f.path[0] == "$case"), None)
    if region is not None:
        case["region"] = region
    case[entity.name] = body
    return case


def person_key(connection: Connection, id_number: str) -> int:
    """persons.id of an ID number as people write it (15 digits, lower-case x, spaces are all accepted)."""
    checked = citizen_id.check(id_number)
    if not checked.valid:
        raise ValueError(f"身份证号 {masked_id_number(checked.id)} 无效：{checked.reason}")
    key = connection.execute(text("SELECT id FROM persons WHERE id_number = :n"), {"n": checked.id}).scalar()
    if key is None:
        raise NotRegisteredError(masked_id_number(checked.id))
    return int(key)


def organization_key(connection: Connection, credit_code: str) -> int:
    code = credit_code.strip().upper()
    key = connection.execute(text("SELECT id FROM organizations WHERE credit_code = :c"), {"c": code}).scalar()
    if key is None:
        raise NotRegisteredError(code)
    return int(key)
