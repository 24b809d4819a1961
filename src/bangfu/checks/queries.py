"""Compile a rule set to SQL over the ``rows`` view: the named aggregates once, then one query per rule.

The aggregates are compiled by the policy's own compiler (``policy/sql.py``): a grouping is a
collection whose GROUP BY key is the grouping's column (户编号, 证件号码) instead of an entity key,
so NULL handling and three-valued logic are exactly the policy's. They are materialised once into
``aggregates`` (row_no and one column per aggregate), so that thirty rules do not group a
province's rows thirty times.
"""

from __future__ import annotations

import datetime as dt

from bangfu.checks.ruleset import NamedAggregate, Rule
from bangfu.checks.schema import GROUPINGS
from bangfu.policy.sql import Compiler, quote


def case_variables(day: dt.date) -> dict[str, object]:
    """The date a check is run for; a rule set has no validity period, so ``valid_from`` is that date too."""
    return {
        "date": day,
        "year_start": dt.date(day.year, 1, 1),
        "year_end": dt.date(day.year, 12, 31),
        "valid_from": day,
    }


def _compiler(day: dt.date) -> Compiler:
    return Compiler(case_variables=case_variables(day), constants={}, param_columns={}, key_counties=frozenset())


def aggregates_sql(aggregates: list[NamedAggregate], day: dt.date) -> str:
    """``SELECT row_no, <aggregate>...`` over ``rows``, every grouping's GROUP BY joined once."""
    compiler = _compiler(day)
    outer = [f"{compiler.outer(a.node)} AS {quote(a.name)}" for a in aggregates]
    inner = ["f.row_no", *(f"{sql} AS {quote(alias)}" for alias, sql in compiler.entity_columns.items())]
    joins = []
    for collection in compiler.aggregates:
        key = GROUPINGS[collection].key
        grouped = compiler.aggregate_select(collection, "rows", key, "rows")
        ref = quote("g_" + collection)
        joins.append(f"LEFT JOIN ({grouped}) {ref} ON {ref}.{quote(key)} = f.{quote(key)}")
    return (
        f"SELECT f.row_no, {', '.join(outer)}\nFROM (SELECT {', '.join(inner)}\n  FROM rows f\n  "
        + "\n  ".join(joins)
        + ") f"
    )


def rule_table(rule: Rule) -> str:
    """The table a rule's rows are in: the checked rows, or the registry's persons of the file's counties."""
    return "registry_rows" if rule.over == "registry" else "rows"


def rule_sql(rule: Rule, day: dt.date) -> str:
    """The row numbers of the rows ``rule`` finds suspect (its condition TRUE)."""
    source = "(SELECT * FROM rows JOIN aggregates USING (row_no))" if rule.aggregates else rule_table(rule)
    return f"SELECT f.row_no FROM {source} f WHERE {_compiler(day).outer(rule.node)}"
