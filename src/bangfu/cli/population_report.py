"""What `policy population` and `policy whatif --add` print: results grouped by document, in Chinese."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.table import Table

from bangfu.cli import render
from bangfu.core.money import format_yuan
from bangfu.policy.batch_run import PopulationRun
from bangfu.policy.model import FUNDS, LEVELS, Policy
from bangfu.policy.policy_set import PolicySet

ENTITY_LABELS = {"person": "个人", "organization": "单位"}
ZERO = {"granted": 0, "needs": 0, "excluded": 0, "amount": 0}


def document_json(document: Policy, run: PopulationRun) -> dict[str, Any]:
    """One document's part of a run: who it answered, its benefits' totals, its cost by fund and region."""
    return {
        "title": document.title,
        "level": document.level,
        "region": document.region,
        "valid_from": document.valid_from.isoformat(),
        "valid_to": document.valid_to.isoformat() if document.valid_to else None,
        "placeholder": document.placeholder or None,
        "entities": {r.entity: r.covered(document.id) for r in run.runs if document.id in r.query.documents},
        "benefits": {bid: totals for (d, bid), totals in run.by_benefit().items() if d == document.id},
        "by_fund_fen": run.by_fund(document.id),
        "by_region_fen": {region: fen for region, fen in run.by_region(document.id).items() if fen},
    }


def documents_json(policies: PolicySet, run: PopulationRun) -> dict[str, Any]:
    answered = {d for r in run.runs for d in r.query.documents}
    return {d.id: document_json(d, run) for d in policies.documents if d.id in answered}


def _heading(document: Policy) -> str:
    placeholder = "，数值暂定" if document.placeholder else ""
    return f"《{document.title}》（{LEVELS[document.level]}，执行期 {document.validity_text()}{placeholder}）"


def tables(policies: PolicySet, run: PopulationRun, backend: str) -> list[str | Table]:
    """One table per kind of entity and document, each under its document's name when there are several
    (one document: the table as it always was). Headings are lines of their own: a table would cut them."""
    out: list[str | Table] = []
    several = len(policies.documents) > 1
    for r in run.runs:
        for document_id in r.query.documents:
            document = policies.document(document_id)
            keys = r.query.keys_of(document_id)
            labels = {key: document.benefits[r.query.benefits[key][1]].label for key in keys}
            totals = r.totals()
            count = r.covered(document_id) if several else r.entities()
            if several:
                out.append(_heading(document))
            title = f"{ENTITY_LABELS[r.entity]} {count:,} 个，评估日 {run.date}（{backend}）"
            out.append(render.population_table(title, labels, {key: totals[key] for key in keys}))
    return out


def added_preview(
    policies: PolicySet, added: Policy, baseline: PopulationRun, scenario: PopulationRun
) -> dict[str, Any]:
    """The added document's cost, and what it changes in the others (cross-document exclusions)."""
    before, after = baseline.by_benefit(), scenario.by_benefit()
    others = []
    for (document_id, benefit_id), totals in after.items():
        was = before.get((document_id, benefit_id), ZERO)
        if document_id == added.id or totals == was:
            continue
        others.append(
            {
                "document": document_id,
                "title": policies.document(document_id).title,
                "benefit": benefit_id,
                "label": policies.document(document_id).benefits[benefit_id].label,
                "baseline_fen": was["amount"],
                "scenario_fen": totals["amount"],
                "difference_fen": totals["amount"] - was["amount"],
                "granted_difference": totals["granted"] - was["granted"],
                "excluded_difference": totals["excluded"] - was["excluded"],
            }
        )
    return {"added": {"id": added.id, **document_json(added, scenario)}, "others": others}


def preview_tables(preview: dict[str, Any], day: dt.date) -> list[str | Table]:
    added = preview["added"]
    heading = f"新增政策《{added['title']}》（{LEVELS[added['level']]}，地区 {render.region_label(added['region'])}）"
    if added["placeholder"]:
        heading += "，数值暂定，待正式文件公布"
    cost = Table(title=f"评估日 {day} 新增政策的成本，按资金来源")
    cost.add_column("资金来源")
    cost.add_column("金额", justify="right")
    for fund, fen in added["by_fund_fen"].items():
        cost.add_row(FUNDS.get(fund, fund), format_yuan(fen))
    regions = Table(title="新增政策的成本，按地区（仅列出有支出的县）")
    regions.add_column("地区")
    regions.add_column("金额", justify="right")
    for region, fen in sorted(added["by_region_fen"].items()):
        regions.add_row(render.region_label(region), format_yuan(fen))
    effects = Table(title="对其他政策的影响（跨政策互斥：同一人只能享受其中一项）")
    for column, justify in (("政策", "left"), ("项目", "left"), ("基线", "right"), ("测算", "right")):
        effects.add_column(column, justify=justify)  # type: ignore[arg-type]
    effects.add_column("差额", justify="right")
    effects.add_column("可享受人数变化", justify="right")
    for row in preview["others"]:
        effects.add_row(
            f"《{row['title']}》",
            row["label"],
            format_yuan(row["baseline_fen"]),
            format_yuan(row["scenario_fen"]),
            format_yuan(row["difference_fen"]),
            f"{row['granted_difference']:+,}",
        )
    if not preview["others"]:
        effects.add_row("（无）", "其他政策的测算结果不变", "", "", "", "")
    return [heading, cost, regions, effects]
