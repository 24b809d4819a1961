"""Evaluate a population held as Parquet tables on a chosen back end, and summarize the result."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bangfu.batch.base import Backend
from bangfu.batch.locations import Location, is_remote, table_location
from bangfu.policy.engine import PolicyConflictError
from bangfu.policy.facts import ENTITIES, Entity
from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.population_set import Member, SetQuery, build_set_query, covered_count_column, summary_sql
from bangfu.policy.sql import quote


@dataclass
class EntityRun:
    entity: str
    query: SetQuery
    summary: list[dict[str, Any]]
    seconds: float

    def totals(self) -> dict[str, dict[str, int]]:
        """Per result key (``SetQuery.benefit_ids``): entities granted, needing information, excluded,
        and amount in fen."""
        out: dict[str, dict[str, int]] = {}
        for key in self.query.benefit_ids:
            out[key] = {
                what: sum(int(row[f"{key}__{what}"] or 0) for row in self.summary)
                for what in ("granted", "needs", "excluded", "amount")
            }
        return out

    def entities(self) -> int:
        return sum(int(row["entities"]) for row in self.summary)

    def covered(self, document_id: str) -> int:
        """The entities ``document_id`` answered (all, for a province's document)."""
        name = covered_count_column(document_id)
        return sum(int(row[name] or 0) for row in self.summary) if document_id in self.query.documents else 0


@dataclass
class PopulationRun:
    date: dt.date
    backend: str
    runs: list[EntityRun] = field(default_factory=list)

    def by_benefit(self) -> dict[Member, dict[str, int]]:
        """Totals per (document id, benefit id), whatever the result keys are named."""
        return {run.query.benefits[key]: totals for run in self.runs for key, totals in run.totals().items()}

    def by_fund(self, document_id: str | None = None) -> dict[str, int]:
        """Amounts per fund: of every document, or of ``document_id`` only."""
        funds: dict[str, int] = {}
        for run in self.runs:
            for key, totals in run.totals().items():
                if document_id is None or run.query.benefits[key][0] == document_id:
                    fund = run.query.funds[key]
                    funds[fund] = funds.get(fund, 0) + totals["amount"]
        return funds

    def by_region(self, document_id: str | None = None) -> dict[str, int]:
        """Amounts per region: of every document, or of ``document_id`` only."""
        regions: dict[str, int] = {}
        for run in self.runs:
            keys = run.query.benefit_ids if document_id is None else run.query.keys_of(document_id)
            for row in run.summary:
                amount = sum(int(row[f"{key}__amount"] or 0) for key in keys)
                regions[row["region"]] = regions.get(row["region"], 0) + amount
        return regions


class PopulationDataError(ValueError):
    """A population folder that lacks a table the rules need."""


def table_files(entity: Entity, data_dir: Location) -> dict[str, Location]:
    """The Parquet file of the entity and of each of its collections (a remote folder is not checked:
    the Spark back end reports what it cannot read)."""
    tables = [entity.table, *(c.table for c in entity.collections.values())]
    files = {t: table_location(data_dir, t) for t in tables}
    if is_remote(data_dir):
        return files
    missing = [Path(p).name for p in files.values() if not Path(p).exists()]
    if missing:
        raise PopulationDataError(
            f"人群数据目录 {data_dir} 缺少文件：{', '.join(missing)}。可用 bangfu synth 生成示例数据。"
        )
    return files


def evaluate_population(
    policies: Policy | PolicySet,
    backend: Backend,
    data_dir: Location,
    day: dt.date,
    entities: tuple[str, ...] = ("person", "organization"),
    out_dir: Path | None = None,
) -> PopulationRun:
    """Every benefit of every document of ``policies`` (one ``Policy`` is a set of one) for every entity
    on ``day``; with ``out_dir``, each entity's rows are written as ``<entity>_results.parquet``."""
    policy_set = policies if isinstance(policies, PolicySet) else PolicySet.alone(policies)
    result = PopulationRun(day, backend.name)
    for entity_name in entities:
        started = time.perf_counter()
        entity = ENTITIES[entity_name]
        for table, path in table_files(entity, data_dir).items():
            backend.register_parquet(table, path)
        query = build_set_query(policy_set, entity_name, day, backend.distinct(entity.table, "region"))
        if not query.documents:  # no document of the set has a benefit for this kind of entity
            continue
        for name, rows in query.params.items():
            backend.register_rows(name, rows)
        table = f"result_{entity_name}"
        partial = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            partial = out_dir / f".{entity_name}_results.partial.parquet"
        backend.materialize(table, query.sql, partial)
        summary = backend.fetch(summary_sql(query, quote(table)))
        for name, (document_id, group_id) in query.conflict_columns.items():
            conflicts = sum(int(row[name] or 0) for row in summary)
            if conflicts:
                raise PolicyConflictError(
                    f"政策 {document_id} 互斥组 {group_id}：有 {conflicts} 个{entity.label}同时适用多项，"
                    "但政策文件未声明优先顺序（precedence）。请补充优先顺序后再评估。"
                )
        if out_dir is not None and partial is not None:
            # the results file appears only once the run has passed every check
            final = out_dir / f"{entity_name}_results.parquet"
            if final.is_dir():
                shutil.rmtree(final)
            os.replace(partial, final)
        result.runs.append(EntityRun(entity_name, query, summary, time.perf_counter() - started))
    return result
