"""Turn rows of a population's Parquet tables back into single cases.

Used to explain one person of a batch run, and by the tests that hold the population query and
the single-case engine to the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bangfu.policy.case import Case
from bangfu.policy.facts import ENTITIES


def iter_cases(data_dir: Path, entity_name: str, day: dt.date, limit: int | None = None) -> Iterator[Case]:
    entity = ENTITIES[entity_name]
    key = entity.key
    rows = pq.read_table(data_dir / f"{entity.table}.parquet").to_pylist()
    if limit is not None:
        rows = rows[:limit]
    wanted = {row[key] for row in rows}
    children: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for name, collection in entity.collections.items():
        grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for child in pq.read_table(data_dir / f"{collection.table}.parquet").to_pylist():
            if child[key] in wanted:
                grouped[child[key]].append({f: child.get(f) for f in collection.fields})
        children[name] = grouped
    for row in rows:
        facts = {f: row.get(f) for f in entity.fields}
        collections = {name: children[name].get(row[key], []) for name in entity.collections}
        region = facts.get("region")
        yield Case(day, entity, region if isinstance(region, str) else None, facts, collections)
