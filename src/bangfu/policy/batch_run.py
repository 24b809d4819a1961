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
from bangfu.policy.engine import PolicyConflictError
from bangfu.policy.facts import ENTITIES, Entity
from bangfu.policy.model import Policy
from bangfu.policy.population import PopulationQuery, build_query, summary_sql
from bangfu.policy.sql import quote


@dataclass
class EntityRun:
    entity: str
    query: PopulationQuery
    summary: list[dict[str, Any]]
    seconds: float

    def totals(self) -> dict[str, dict[str, int]]:
        """Per benefit: entities granted, needing information, excluded, and amount in fen."""
        out: dict[str, dict[str, int]] = {}
        for bid in self.query.benefit_ids:
            out[bid] = {
                what: sum(int(row[f"{bid}__{what}"] or 0) for row in self.summary)
                for what in ("granted", "needs", "excluded", "amount")
            }
        return out

    def entities(self) -> int:
        return sum(int(row["entities"]) for row in self.summary)


@dataclass
class PopulationRun:
    date: dt.date
    backend: str
    runs: list[EntityRun] = field(default_factory=list)

    def by_fund(self) -> dict[str, int]:
        funds: dict[str, int] = {}
        for run in self.runs:
            for bid, totals in run.totals().items():
                fund = run.query.funds[bid]
                funds[fund] = funds.get(fund, 0) + totals["amount"]
        return funds

    def by_region(self) -> dict[str, int]:
        regions: dict[str, int] = {}
        for run in self.runs:
            for row in run.summary:
                amount = sum(int(row[f"{bid}__amount"] or 0) for bid in run.query.benefit_ids)
                regions[row["region"]] = regions.get(row["region"], 0) + amount
        return regions


class PopulationDataError(ValueError):
    """A population folder that lacks a table the rules need."""


def table_files(entity: Entity, data_dir: Path) -> dict[str, Path]:
    """The Parquet file of the entity and of each of its collections."""
    tables = [entity.table, *(c.table for c in entity.collections.values())]
    files = {t: data_dir / f"{t}.parquet" for t in tables}
    missing = [p.name for p in files.values() if not p.exists()]
    if missing:
        raise PopulationDataError(
            f"人群数据目录 {data_dir} 缺少文件：{', '.join(missing)}。可用 bangfu synth 生成示例数据。"
        )
    return files


def evaluate_population(
    policy: Policy,
    backend: Backend,
    data_dir: Path,
    day: dt.date,
    entities: tuple[str, ...] = ("person", "organization"),
    out_dir: Path | None = None,
) -> PopulationRun:
    result = PopulationRun(day, backend.name)
    for entity_name in entities:
        started = time.perf_counter()
        entity = ENTITIES[entity_name]
        for table, path in table_files(entity, data_dir).items():
            backend.register_parquet(table, path)
        query = build_query(policy, entity_name, day, backend.distinct(entity.table, "region"))
        if query.params_rows:
            backend.register_rows("__params", query.params_rows)
        table = f"result_{entity_name}"
        partial = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            partial = out_dir / f".{entity_name}_results.partial.parquet"
        backend.materialize(table, query.sql, partial)
        summary = backend.fetch(summary_sql(query, quote(table)))
        for name, group_id in query.conflict_columns.items():
            conflicts = sum(int(row[name] or 0) for row in summary)
            if conflicts:
                raise PolicyConflictError(
                    f"政策 {policy.id} 互斥组 {group_id}：有 {conflicts} 个{entity.label}同时适用多项，"
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
