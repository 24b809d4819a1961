"""What a new local standard would cost, by fund, on the region's stored population (before it is saved).

The stored population is exported as ``bangfu policy population --from-database`` does
(``registry/population_export.py``), and evaluated twice on DuckDB: with the document as it stands
(its current standards included) and with the proposed value spliced in by ``policy/whatif.py``.
Only the persons and organizations of the region are counted.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.core import regions
from bangfu.policy.batch_run import PopulationRun, evaluate_population
from bangfu.policy.local_standards import Proposal
from bangfu.policy.model import Policy
from bangfu.policy.whatif import apply_overrides, cost_difference
from bangfu.registry.population_export import export_population


@dataclass(frozen=True)
class CostPreview:
    day: dt.date
    region: str
    by_fund: list[dict[str, Any]]  # key (fund), baseline_fen, scenario_fen, difference_fen
    granted: list[dict[str, Any]]  # per benefit touched: label, baseline and scenario counts

    @property
    def total_difference_fen(self) -> int:
        return sum(int(row["difference_fen"]) for row in self.by_fund)


def _within(code: object, region: str) -> bool:
    return isinstance(code, str) and regions.canonical(code).startswith(region) if code else False


def by_fund_within(run: PopulationRun, region: str) -> dict[str, int]:
    """The amounts of ``run`` by fund, counting only the rows of ``region`` and below."""
    funds: dict[str, int] = {}
    for entity_run in run.runs:
        for row in entity_run.summary:
            if not _within(row["region"], region):
                continue
            for bid in entity_run.query.benefit_ids:
                fund = entity_run.query.funds[bid]
                funds[fund] = funds.get(fund, 0) + int(row[f"{bid}__amount"] or 0)
    return funds


def granted_within(run: PopulationRun, region: str) -> dict[str, int]:
    """Entities granted, per benefit, in ``region`` and below."""
    counts: dict[str, int] = {}
    for entity_run in run.runs:
        for row in entity_run.summary:
            if _within(row["region"], region):
                for bid in entity_run.query.benefit_ids:
                    counts[bid] = counts.get(bid, 0) + int(row[f"{bid}__granted"] or 0)
    return counts


def preview(engine: Engine, policy: Policy, proposal: Proposal) -> CostPreview:
    """Cost by fund in the proposal's region on its first day, now and with the proposed value."""
    region = regions.canonical(proposal.region_code)
    override = {
        "parameter": proposal.parameter_key,
        "from": proposal.valid_from,
        "to": proposal.valid_to,
        "value": proposal.value,
        "region": region,
        "note": f"拟设标准（{proposal.document_number}）",
    }
    scenario_policy = apply_overrides(policy, [override], "拟设标准")
    day = proposal.valid_from
    backend = DuckDBBackend()
    try:
        with tempfile.TemporaryDirectory(prefix="bangfu-standard-preview-") as folder:
            with engine.connect() as connection:
                export_population(connection, Path(folder), day)
            baseline = evaluate_population(policy, backend, Path(folder), day)
            scenario = evaluate_population(scenario_policy, backend, Path(folder), day)
    finally:
        backend.close()
    before, after = granted_within(baseline, region), granted_within(scenario, region)
    labels = {b.id: b.label for b in policy.benefits.values()}
    granted = [
        {"id": bid, "label": labels.get(bid, bid), "baseline": before.get(bid, 0), "scenario": after.get(bid, 0)}
        for bid in sorted(set(before) | set(after))
        if before.get(bid, 0) != after.get(bid, 0)
    ]
    by_fund = cost_difference(by_fund_within(baseline, region), by_fund_within(scenario, region))
    return CostPreview(day, region, by_fund, granted)
