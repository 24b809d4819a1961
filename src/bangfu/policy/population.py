"""Build the one SQL query that evaluates every benefit for a whole population on one date.

The query mirrors ``engine.py`` step by step (conditions, limits and exclusions, status, amount),
so a person's row here and that person's single-case result always agree; a property test holds
the two to it. The SQL is written in DuckDB's dialect and transpiled by SQLGlot for Spark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bangfu.policy.expressions import Node, parameters_used
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
    shared = SharedPass.start(entity_name, regions, layout, amounts_only)
    document = document_columns(shared, policy, entity_name, day, benefit_ids=benefit_ids)
    return PopulationQuery(
        shared.entity,
        shared.sql(document.select_list()),
        document.benefit_ids,
        document.funds,
        shared.params_rows(),
        document.param_columns,
        document.conflict_columns,
    )


@dataclass
class SharedPass:
    """What the documents compiled into one query share, so that the population is read once for all:
    the compiler (each aggregation over a collection, each fact column), the per-entity values (``l``,
    each distinct SQL once) and the region-dependent parameters (one helper table, a column each)."""

    entity: Entity
    compiler: Compiler
    regions: list[str]
    amounts_only: bool = False
    level1: dict[str, str] = field(default_factory=dict)  # SQL -> column
    param_columns: list[str] = field(default_factory=list)
    params: dict[str, dict[str, object]] = field(default_factory=dict)  # region -> column -> value

    @classmethod
    def start(
        cls, entity_name: str, regions: list[str], layout: Layout | None = None, amounts_only: bool = False
    ) -> SharedPass:
        compiler = Compiler(case_variables={}, constants={}, param_columns={}, key_counties=frozenset())
        compiler.layout = layout or Layout()
        return cls(ENTITIES[entity_name], compiler, regions, amounts_only)

    def value(self, sql: str, name: str) -> str:
        """A per-entity value; one that several benefits share (e.g. 属于脱贫人口) is computed once."""
        if self.amounts_only:  # one projection: each value is used once or twice, so inline it
            return f"({sql})"
        if sql not in self.level1:
            self.level1[sql] = name
        return f"l.{quote(self.level1[sql])}"

    def params_rows(self) -> list[dict[str, object]]:
        return [{"region": region, **values} for region, values in self.params.items()] if self.param_columns else []

    def parts(self, outputs: list[str], prefixes: tuple[str, ...] | None = None) -> tuple[list[str], str]:
        """The CTEs and the final SELECT of ``outputs`` over every entity (or those in ``prefixes``' regions)."""
        entity, compiler = self.entity, self.compiler
        key = quote(entity.key)
        # the entity rows (with region-dependent parameters) as a source, not a CTE: a CTE used twice
        # is materialized, which would copy a province's table once more
        base = _base_source(entity, self.param_columns, prefixes)
        ctes: list[str] = []
        joins = []
        for collection_name in compiler.aggregates:
            collection = entity.collections[collection_name]
            alias = quote("g_" + collection_name)
            grouped = compiler.aggregate_select(
                collection_name, collection.table, entity.key, base, prefixes is not None
            )
            ctes.append(f"{alias} AS (\n  {grouped}\n)")
            joins.append(f"LEFT JOIN {alias} ON {alias}.{key} = f.{key}")
        source = base
        if compiler.entity_columns:
            ctes.append(
                f"facts AS (\n  SELECT f.*, {_select_list(compiler.entity_columns)}\n  FROM {source} f\n  "
                + "\n  ".join(joins)
                + "\n)"
            )
            source = "facts"
        if self.amounts_only:
            return ctes, f"SELECT {', '.join([f'f.{key}', *outputs])}\nFROM {source} f"
        if not self.level1:  # nothing to compute per entity (no document in force)
            return ctes, f"SELECT {', '.join([f'f.{key}', 'f.region', *outputs])}\nFROM {source} f"
        level1_sql = ",\n    ".join(f"{sql} AS {quote(name)}" for sql, name in self.level1.items())
        ctes.append(f"l AS (\n  SELECT f.{key}, f.region,\n    {level1_sql}\n  FROM {source} f\n)")
        return ctes, f"SELECT {', '.join([f'l.{key}', 'l.region', *outputs])}\nFROM l"

    def sql(self, outputs: list[str], prefixes: tuple[str, ...] | None = None) -> str:
        ctes, final = self.parts(outputs, prefixes)
        return ("WITH " + ",\n".join(ctes) + "\n" if ctes else "") + final


@dataclass(frozen=True)
class DocumentColumns:
    """One document's output columns in a shared pass: (SQL, column name), in order."""

    benefit_ids: tuple[str, ...]
    funds: dict[str, str]
    columns: list[tuple[str, str]]
    conflict_columns: dict[str, str]  # column -> exclusion group id
    param_columns: dict[str, str]  # parameter key -> column of the parameters table

    def select_list(self) -> list[str]:
        return [f"{sql} AS {quote(name)}" for sql, name in self.columns]


def document_columns(
    shared: SharedPass,
    policy: Policy,
    entity_name: str,
    day: dt.date,
    *,
    benefit_ids: tuple[str, ...] | None = None,
    result_prefix: str = "",
    value_prefix: str = "",
    mask: str | None = None,
    extra: dict[str, Node] | None = None,
) -> DocumentColumns:
    """Compile one document's benefits into ``shared``: the columns that decide them, as ``engine.py`` does.

    ``result_prefix`` names the outputs (``document/`` in a set of several); ``value_prefix`` keeps the
    document's per-entity values and parameter columns apart from the others'. ``mask``: a region code;
    the document answers only entities of that region (other rows get NULL). ``extra``: more boolean
    outputs, compiled as of the document's decision day (the receipts cross-document exclusions read).
    """
    plans = build_plans(policy, entity_name)
    if benefit_ids is not None:
        wanted = set(benefit_ids)
        while True:  # a benefit needs its rivals decided, and they need theirs
            grown = wanted | {r.benefit_id for p in plans if p.benefit.id in wanted for r in p.rivals}
            if grown == wanted:
                break
            wanted = grown
        plans = [p for p in plans if p.benefit.id in wanted]
    ids = tuple(p.benefit.id for p in plans)
    funds = {p.benefit.id: p.benefit.fund for p in plans}
    decided_on = policy.decision_day(day)
    wanted_extra = extra or {}

    def name(bid: str, suffix: str) -> str:
        return column(result_prefix + bid, suffix)

    def masked(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if mask is None:
            return columns
        return [(f"CASE WHEN region LIKE '{mask}%' THEN {sql} END", label) for sql, label in columns]

    if decided_on is None:
        columns = [("FALSE", label) for label in wanted_extra]
        for bid in ids:
            columns += [
                ("'not_in_force'", name(bid, "status")),
                ("CAST(NULL AS BOOLEAN)", name(bid, "eligible")),
                ("CAST(0 AS BIGINT)", name(bid, "amount_fen")),
            ]
            if policy.benefits[bid].priority:
                columns.append(("CAST(NULL AS BIGINT)", name(bid, "priority")))
        return DocumentColumns(ids, funds, masked(columns), {}, {})

    keys_used: list[str] = []
    for plan in plans:
        for node in [*(c.expr for c in plan.benefit.conditions), plan.benefit.amount]:
            keys_used += [k for k in parameters_used(node) if k not in keys_used]
    constants, param_columns, per_region = _split_parameters(
        policy, keys_used, decided_on, shared.regions, value_prefix
    )
    shared.param_columns += list(param_columns.values())
    for region, values in per_region.items():
        shared.params.setdefault(region, {}).update(values)
    compiler = shared.compiler
    compiler.switch_document(policy.case_variables(decided_on, day), constants, param_columns, policy.key_counties)

    def value(sql: str, label: str) -> str:
        return shared.value(sql, value_prefix + label)

    in_period = {plan.benefit.id: _in_period(policy, plan, decided_on == day, compiler, value) for plan in plans}
    eligible: dict[str, str] = {}
    amounts: dict[str, str] = {}
    amount_known: set[str] = set()  # benefits whose amount is never unknown once eligible
    self_blocked: dict[str, str] = {}
    for plan in plans:
        bid = plan.benefit.id
        conds = [
            value(compiler.outer(condition.expr), f"{bid}__c{j}") for j, condition in enumerate(plan.benefit.conditions)
        ]
        conditions = [c.expr for c in plan.benefit.conditions]
        amount_sql = compiler.outer_given(plan.benefit.amount, conditions)  # read only when eligible
        amounts[bid] = value(amount_sql, f"{bid}__amount")
        if not compiler.may_be_unknown_given(plan.benefit.amount, conditions):
            amount_known.add(bid)
        checks = [value(compiler.outer(check.expr), f"{bid}__r{k}") for k, check in enumerate(plan.receipt_checks)]
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

    columns = [(value(compiler.outer(node), label), label) for label, node in wanted_extra.items()]
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
        if not shared.amounts_only:
            columns.append((status, name(bid, "status")))
            shown = (
                eligible[bid] if in_period[bid] == "TRUE" else f"CASE WHEN {in_period[bid]} THEN {eligible[bid]} END"
            )
            columns.append((shown, name(bid, "eligible")))
        # CASE takes an unknown (NULL) condition as not met, and an unknown amount is NULL: either way 0
        granted = f"{eligible[bid]}{f' AND NOT {blocked[bid]}' if can_block else ''}"
        # a BIGINT zero makes the column BIGINT without a cast over every row
        paid = (
            f"CASE WHEN {granted} THEN {amount} ELSE CAST(0 AS BIGINT) END"
            if bid in amount_known
            else f"COALESCE(CASE WHEN {granted} THEN {amount} END, CAST(0 AS BIGINT))"
        )
        columns.append((paid, name(bid, "amount_fen")))
        if plan.benefit.priority and not shared.amounts_only:
            tests = [value(compiler.outer(step.expr), f"{bid}__p{k}") for k, step in enumerate(plan.benefit.priority)]
            columns.append((_priority_sql(plan, tests, eligible[bid]), name(bid, "priority")))
    conflict_columns = {}
    for index, conflict in enumerate(conflict_groups(policy, entity_name)):
        if not all(m in eligible for m in conflict.group.members):
            continue
        applying = [
            f"CASE WHEN {eligible[m]} = TRUE AND {self_blocked[m]} = FALSE THEN 1 ELSE 0 END"
            for m in conflict.group.members
        ]
        label = f"{result_prefix}__conflict{index}"
        conflict_columns[label] = conflict.group.id
        columns.append((f"({' + '.join(applying)}) > 1", label))
    return DocumentColumns(ids, funds, masked(columns), conflict_columns, param_columns)


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


def _base_source(entity: Entity, param_columns: list[str], prefixes: tuple[str, ...] | None) -> str:
    table = quote(entity.table)
    # region codes are digits: a LIKE prefix needs no escaping, and reads the same in DuckDB and Spark
    where = (
        " WHERE (" + " OR ".join(f"e.region LIKE '{prefix}%'" for prefix in prefixes) + ")"
        if prefixes is not None
        else ""
    )
    if not param_columns:
        return f"(SELECT e.* FROM {table} e{where})" if where else table
    columns = ", ".join(f"p.{quote(c)}" for c in param_columns)
    return f"(SELECT e.*, {columns} FROM {table} e LEFT JOIN __params p ON p.region = e.region{where})"


def _split_parameters(
    policy: Policy, keys: list[str], day: dt.date, regions: list[str], prefix: str = ""
) -> tuple[dict[str, object], dict[str, str], dict[str, dict[str, object]]]:
    """Inline parameters that are equal everywhere; give the others a column (``prefix`` + p<n>) per region."""
    constants: dict[str, object] = {}
    param_columns: dict[str, str] = {}
    per_region: dict[str, dict[str, object]] = {r: {} for r in regions}
    for index, key in enumerate(keys):
        parameter = policy.parameters[key]
        values = {r: parameter.resolve(day, r).value for r in regions} if parameter.varies_by_region() else {}
        if not parameter.varies_by_region() or len(set(map(repr, values.values()))) <= 1:
            constants[key] = parameter.resolve(day, regions[0] if regions else None).value
            continue
        name = f"{prefix}p{index}"
        param_columns[key] = name
        for region, value in values.items():
            per_region[region][name] = value
    return constants, param_columns, per_region if param_columns else {}
