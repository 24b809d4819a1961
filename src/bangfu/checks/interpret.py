"""Evaluate a rule set row by row with the policy interpreter: the reference the SQL must match.

Used by the tests that hold the compiled SQL to the interpreter on random files, and small enough
to explain one row ("which facts made it suspect") where a page needs that later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from bangfu.checks.queries import case_variables
from bangfu.checks.ruleset import RuleSet
from bangfu.checks.schema import GROUPINGS, aggregate_entity
from bangfu.policy.interpreter import Interpreter, Scope

Row = Mapping[str, Any]


def _groups(rows: Sequence[Row]) -> dict[str, dict[object, list[Row]]]:
    groups: dict[str, dict[object, list[Row]]] = {}
    for grouping in GROUPINGS.values():
        by_key: dict[object, list[Row]] = {}
        for row in rows:
            key = row.get(grouping.key)
            if key is not None:  # as SQL: a NULL key joins no group
                by_key.setdefault(key, []).append(row)
        groups[grouping.name] = by_key
    return groups


def suspects(rows: Sequence[Row], rules: RuleSet, day: dt.date) -> dict[str, set[int]]:
    """rule id -> row_no of the rows its condition holds for (TRUE, not unknown)."""
    variables = case_variables(day)
    groups = _groups(rows)
    entity = aggregate_entity()
    found: dict[str, set[int]] = {rule.id: set() for rule in rules.enabled()}
    for row in rows:
        collections = {
            name: by_key.get(row.get(GROUPINGS[name].key), []) if row.get(GROUPINGS[name].key) is not None else []
            for name, by_key in groups.items()
        }
        scope = Scope({}, collections, variables, lambda key: None, frozenset(), entity.name, entity)
        facts = dict(row)
        for name, aggregate in rules.aggregates.items():
            facts[name] = Interpreter(scope).eval(aggregate.node)
        row_scope = Scope(facts, {}, variables, lambda key: None, frozenset(), entity.name, entity)
        for rule in rules.enabled():
            if Interpreter(row_scope).eval(rule.node) is True:
                found[rule.id].add(int(row["row_no"]))
    return found
