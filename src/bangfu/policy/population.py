"""Build the one SQL query that evaluates every benefit for a whole population on one date.

The query mirrors ``engine.py`` step by step (conditions, limits and exclusions, status, amount),
so a person's row here and that person's single-case result always agree; a property test holds
the two to it. The SQL is written in DuckDB's dialect and transpiled by SQLGlot for Spark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bangfu.policy.expressions import parameters_used
from bangfu.policy.facts import ENTITIES, Entity
from bangfu.policy.model import Policy
from bangfu.policy.plan import BenefitPlan, build_plans, conflict_groups
from bangfu.policy.sql import Compiler, Layout, literal, quote


@dataclass(frozen=True)
class PopulationQuery:
    entity: Entity
    sql: str
    benefit_ids: tuple[str, ...]
    funds: dict[str, str]
    params_rows: list[dict[str, object]]  # region -> region-dependent parameter values
    param_columns: dict[str, str]
    conflict_columns: dict[str, str]  # column -> exclusion group id


def column(benefit_id: str, suffix: str) -> str:
    return f"{benefit_id}__{suffix}"


def build_query(
    policy: Policy,
    entity_name: str,
    day: dt.date,
    regions: list[str],
    benefit_ids: tuple[str, ...] | None = None,
    layout: Layout | None = None,
    amounts_only: bool = False,
) -> PopulationQuery:
    """The query for every benefit of ``entity_name`` (or only ``benefit_ids`` and their rivals).

    ``layout`` describes a flat table shape (see ``Layout``). ``amounts_only`` leaves out the
    status, eligibility and region columns: the entity key and its amounts, nothing else.
    """
    entity = ENTITIES[entity_name]
    plans = build_plans(policy, entity_name)
    if benefit_ids is not None:
        wanted = set(benefit_ids)
        while True:  # a benefit needs its rivals decided, and they need theirs
            grown = wanted | {r.benefit_id for p in plans if p.benefit.id in wanted for r in p.rivals}
            if grown == wanted:
                break
            wanted = grown
        plans = [p for p in plans if p.benefit.id in wanted]
    benefit_ids = tuple(p.benefit.id for p in plans)
    funds = {p.benefit.id: p.benefit.fund for p in plans}
    key = quote(entity.key)
    decided_on = policy.decision_day(day)
    if decided_on is None:
        outputs = [f"f.{key}", "f.region"]
        for bid in benefit_ids:
            outputs += [
                f"'not_in_force' AS {quote(column(bid, 'status'))}",
                f"CAST(NULL AS BOOLEAN) AS {quote(column(bid, 'eligible'))}",
                f"CAST(0 AS BIGINT) AS {quote(column(bid, 'amount_fen'))}",
            ]
            if policy.benefits[bid].priority:
                outputs.append(f"CAST(NULL AS BIGINT) AS {quote(column(bid, 'priority'))}")
        sql = f"SELECT {', '.join(outputs)} FROM {quote(entity.table)} f"
        return PopulationQuery(entity, sql, benefit_ids, funds, [], {}, {})

    keys_used: list[str] = []
    for plan in plans:
        for node in [*(c.expr for c in plan.benefit.conditions), plan.benefit.amount]:
            keys_used += [k for k in parameters_used(node) if k not in keys_used]
    constants, param_columns, params_rows = _split_parameters(policy, keys_used, decided_on, regions)
    compiler = Compiler(
        case_variables=policy.case_variables(decided_on, day),
        constants=constants,
        param_columns=param_columns,
        key_counties=policy.key_counties,
        layout=layout or Layout(),
    )

    level1: dict[str, str] = {}  # SQL -> column: conditions, amounts and receipt checks, each once

    def level1_column(sql: str, name: str) -> str:
        """A per-entity value; one that several benefits share (e.g. 属于脱贫人口) is computed once."""
        if amounts_only:  # one projection: each value is used once or twice, so inline it
            return f"({sql})"
        if sql not in level1:
            level1[sql] = name
        return f"l.{quote(level1[sql])}"

    in_period = {
        plan.benefit.id: _in_period(policy, plan, decided_on == day, compiler, level1_column) for plan in plans
    }
    eligible: dict[str, str] = {}
    amounts: dict[str, str] = {}
    amount_known: set[str] = set()  # benefits whose amount is never unknown once eligible
    self_blocked: dict[str, str] = {}
    for plan in plans:
        bid = plan.benefit.id
        conds = [
            level1_column(compiler.outer(condition.expr), f"{bid}__c{j}")
            for j, condition in enumerate(plan.benefit.conditions)
        ]
        conditions = [c.expr for c in plan.benefit.conditions]
        amount_sql = compiler.outer_given(plan.benefit.amount, conditions)  # read only when eligible
        amounts[bid] = level1_column(amount_sql, f"{bid}__amount")
        if not compiler.may_be_unknown_given(plan.benefit.amount, conditions):
            amount_known.add(bid)
        checks = [
            level1_column(compiler.outer(check.expr), f"{bid}__r{k}") for k, check in enumerate(plan.receipt_checks)
        ]
        if in_period[bid] != "TRUE":  # out of the document's period: no condition is asked
            conds.insert(0, in_period[bid])
        eligible[bid] = "(" + " AND ".join(conds) + ")"
        self_blocked[bid] = "(" + " OR ".join(checks) + ")" if checks else "FALSE"
        if "received" in compiler.layout.empty:  # no ledger: nothing was received, nothing blocks
            self_blocked[bid] = "FALSE"

    blocked: dict[str, str] = {}
    for plan in plans:  # evaluation order: rivals are decided before the benefits they beat
        bid = plan.benefit.id
        parts = [self_blocked[bid]] if self_blocked[bid] != "FALSE" else []
        parts += [
            f"({eligible[r.benefit_id]} AND NOT {blocked[r.benefit_id]})"
            if blocked[r.benefit_id] != "FALSE"
            else eligible[r.benefit_id]
            for r in plan.rivals
        ]
        blocked[bid] = "(" + " OR ".join(parts) + ")" if parts else "FALSE"

    outputs = [f"f.{key}"] if amounts_only else [f"l.{key}", "l.region"]
    for plan in plans:
        bid = plan.benefit.id
        amount = amounts[bid]
        can_block = blocked[bid] != "FALSE"
        not_in_force = "" if in_period[bid] == "TRUE" else f"WHEN NOT {in_period[bid]} THEN 'not_in_force' "
        status = (
            f"CASE {not_in_force}WHEN {eligible[bid]} = FALSE THEN 'not_eligible'"
            f" WHEN {eligible[bid]} IS NULL THEN 'needs_information'"
            + (
                f" WHEN {blocked[bid]} THEN 'excluded' WHEN {blocked[bid]} IS NULL THEN 'needs_information'"
                if can_block
                else ""
            )
            + f" WHEN {amount} IS NULL THEN 'needs_information'"
            " ELSE 'granted' END"
        )
        if not amounts_only:
            outputs.append(f"{status} AS {quote(column(bid, 'status'))}")
            shown = (
                eligible[bid] if in_period[bid] == "TRUE" else f"CASE WHEN {in_period[bid]} THEN {eligible[bid]} END"
            )
            outputs.append(f"{shown} AS {quote(column(bid, 'eligible'))}")
        # CASE takes an unknown (NULL) condition as not met, and an unknown amount is NULL: either way 0
        granted = f"{eligible[bid]}{f' AND NOT {blocked[bid]}' if can_block else ''}"
        # a BIGINT zero makes the column BIGINT without a cast over every row
        paid = (
            f"CASE WHEN {granted} THEN {amount} ELSE CAST(0 AS BIGINT) END"
            if bid in amount_known
            else f"COALESCE(CASE WHEN {granted} THEN {amount} END, CAST(0 AS BIGINT))"
        )
        outputs.append(f"{paid} AS {quote(column(bid, 'amount_fen'))}")
        if plan.benefit.priority and not amounts_only:
            tests = [
                level1_column(compiler.outer(step.expr), f"{bid}__p{k}") for k, step in enumerate(plan.benefit.priority)
            ]
            outputs.append(f"{_priority_sql(plan, tests, eligible[bid])} AS {quote(column(bid, 'priority'))}")
    conflict_columns = {}
    for index, conflict in enumerate(conflict_groups(policy, entity_name)):
        if not all(m in eligible for m in conflict.group.members):
            continue
        applying = [
            f"CASE WHEN {eligible[m]} = TRUE AND {self_blocked[m]} = FALSE THEN 1 ELSE 0 END"
            for m in conflict.group.members
        ]
        name = f"__conflict{index}"
        conflict_columns[name] = conflict.group.id
        outputs.append(f"({' + '.join(applying)}) > 1 AS {quote(name)}")

    # the entity rows (with region-dependent parameters) as a source, not a CTE: a CTE used twice
    # is materialized, which would copy a province's table once more
    base = _base_source(entity, param_columns)
    ctes: list[str] = []
    joins = []
    for collection_name in compiler.aggregates:
        collection = entity.collections[collection_name]
        alias = quote("g_" + collection_name)
        ctes.append(
            f"{alias} AS (\n  {compiler.aggregate_select(collection_name, collection.table, entity.key, base)}\n)"
        )
        joins.append(f"LEFT JOIN {alias} ON {alias}.{key} = f.{key}")
    source = base
    if compiler.entity_columns:
        ctes.append(
            f"facts AS (\n  SELECT f.*, {_select_list(compiler.entity_columns)}\n  FROM {source} f\n  "
            + "\n  ".join(joins)
            + "\n)"
        )
        source = "facts"
    if amounts_only:
        final = f"SELECT {', '.join(outputs)}\nFROM {source} f"
    else:
        level1_sql = ",\n    ".join(f"{sql} AS {quote(name)}" for sql, name in level1.items())
        ctes.append(f"l AS (\n  SELECT f.{key}, f.region,\n    {level1_sql}\n  FROM {source} f\n)")
        final = f"SELECT {', '.join(outputs)}\nFROM l"
    sql = ("WITH " + ",\n".join(ctes) + "\n" if ctes else "") + final
    return PopulationQuery(entity, sql, benefit_ids, funds, params_rows, param_columns, conflict_columns)


def _in_period(policy: Policy, plan: BenefitPlan, in_force: bool, compiler: Compiler, level1_column: Any) -> str:
    """Whether the document decides the benefit (``engine._within_period``), never NULL; "TRUE" when always."""
    event = plan.benefit.event
    bid = plan.benefit.id
    if in_force:
        if event is None:
            return "TRUE"
        when = level1_column(compiler.outer(event.expr), f"{bid}__event")
        return f"({when} IS NULL OR {when} >= {literal(policy.valid_from)})"
    if event is None:
        return "FALSE"
    when = level1_column(compiler.outer(event.expr), f"{bid}__event")
    end = literal(policy.valid_to) if policy.valid_to is not None else when
    return f"({when} IS NOT NULL AND {when} >= {literal(policy.valid_from)} AND {when} <= {end})"


def _priority_sql(plan: BenefitPlan, tests: list[str], eligible: str) -> str:
    """The rank as ``engine._decide_priority`` gives it: first test TRUE wins, an unknown one stops."""
    steps = []
    for step, test in zip(plan.benefit.priority, tests, strict=True):
        steps.append(f"WHEN {test} THEN {step.rank} WHEN {test} IS NULL THEN CAST(NULL AS BIGINT)")
    return f"(CASE WHEN {eligible} = TRUE THEN (CASE {' '.join(steps)} END) END)"


def _select_list(columns: dict[str, str]) -> str:
    return ",\n    ".join(f"{sql} AS {quote(name)}" for name, sql in columns.items())


def _base_source(entity: Entity, param_columns: dict[str, str]) -> str:
    table = quote(entity.table)
    if not param_columns:
        return table
    columns = ", ".join(f"p.{quote(c)}" for c in param_columns.values())
    return f"(SELECT e.*, {columns} FROM {table} e LEFT JOIN __params p ON p.region = e.region)"


def _split_parameters(
    policy: Policy, keys: list[str], day: dt.date, regions: list[str]
) -> tuple[dict[str, object], dict[str, str], list[dict[str, object]]]:
    """Inline parameters that are equal everywhere; give the others a column per region."""
    constants: dict[str, object] = {}
    param_columns: dict[str, str] = {}
    per_region: dict[str, dict[str, object]] = {r: {"region": r} for r in regions}
    for index, key in enumerate(keys):
        parameter = policy.parameters[key]
        values = {r: parameter.resolve(day, r).value for r in regions} if parameter.varies_by_region() else {}
        if not parameter.varies_by_region() or len(set(map(repr, values.values()))) <= 1:
            constants[key] = parameter.resolve(day, regions[0] if regions else None).value
            continue
        name = f"p{index}"
        param_columns[key] = name
        for region, value in values.items():
            per_region[region][name] = value
    return constants, param_columns, list(per_region.values()) if param_columns else []


def summary_sql(query: PopulationQuery, source: str) -> str:
    """Counts and amounts per region and benefit: the basis of every population report."""
    parts = []
    for bid in query.benefit_ids:
        status = quote(column(bid, "status"))
        parts.append(f"COUNT(CASE WHEN {status} = 'granted' THEN 1 END) AS {quote(bid + '__granted')}")
        parts.append(f"COUNT(CASE WHEN {status} = 'needs_information' THEN 1 END) AS {quote(bid + '__needs')}")
        parts.append(f"COUNT(CASE WHEN {status} = 'excluded' THEN 1 END) AS {quote(bid + '__excluded')}")
        parts.append(f"CAST(SUM({quote(column(bid, 'amount_fen'))}) AS BIGINT) AS {quote(bid + '__amount')}")
    for name in query.conflict_columns:
        parts.append(f"COUNT(CASE WHEN {quote(name)} THEN 1 END) AS {quote(name)}")
    return f"SELECT region, COUNT(*) AS entities, {', '.join(parts)} FROM {source} GROUP BY region ORDER BY region"
