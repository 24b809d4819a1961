"""Evaluate a rule expression for one case, with three-valued logic and a trace.

``None`` means *unknown*: a fact that was not given or a local standard that is not set. It
propagates the way SQL NULL does (Kleene logic), so that this interpreter and the SQL compiled
for a population agree on every case; see ``sql.py`` for the other half of that contract.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bangfu.core.citizen_id import check_digit
from bangfu.policy.expressions import (
    Aggregate,
    Arith,
    BoolOp,
    Call,
    CaseVariable,
    Coalesce,
    Compare,
    Contains,
    Extreme,
    FieldRef,
    IfElse,
    InValues,
    IsNull,
    Literal,
    Node,
    Not,
    ParamRef,
    RowField,
)
from bangfu.policy.facts import ENTITIES, Entity

Value = Any  # int | bool | str | date | list[str] | None


def and3(values: Iterable[Value]) -> Value:
    unknown = False
    for v in values:
        if v is False:
            return False
        if v is None:
            unknown = True
    return None if unknown else True


def or3(values: Iterable[Value]) -> Value:
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


def add_years(day: dt.date, years: int) -> dt.date:
    """Same date N years on; 29 February becomes 28 February, as DuckDB and Spark do."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


@dataclass
class Trace:
    """What an evaluation looked at: facts read (path -> value) and unknowns met."""

    reads: dict[str, Value] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    missing_params: list[str] = field(default_factory=list)

    def note_missing(self, path: str) -> None:
        if path not in self.missing:
            self.missing.append(path)


@dataclass
class Scope:
    """Everything an expression may read for one entity on one date."""

    facts: Mapping[str, Value]
    collections: Mapping[str, Sequence[Mapping[str, Value]]]
    case_variables: Mapping[str, Value]
    param: Callable[[str], Value]
    key_counties: frozenset[str]
    entity_name: str
    # an entity outside the policy schema (a suspect-data check's row); else ENTITIES[entity_name]
    entity: Entity | None = None


class Interpreter:
    def __init__(self, scope: Scope, trace: Trace | None = None) -> None:
        self.scope = scope
        self.trace = trace if trace is not None else Trace()
        self.row: Mapping[str, Value] | None = None
        self.row_path = ""

    def eval(self, node: Node) -> Value:
        method = _DISPATCH[type(node)]
        return method(self, node)

    def _literal(self, node: Literal) -> Value:
        return node.value

    def _case_variable(self, node: CaseVariable) -> Value:
        return self.scope.case_variables[node.name]

    def _field(self, node: FieldRef) -> Value:
        value = self.scope.facts.get(node.name)
        path = f"{self.scope.entity_name}.{node.name}"
        self.trace.reads[path] = value
        if value is None:
            self.trace.note_missing(path)
        return value

    def _row_field(self, node: RowField) -> Value:
        assert self.row is not None
        value = self.row.get(node.name)
        path = f"{self.row_path}.{node.name}"
        self.trace.reads[path] = value
        if (
            value is None
            and (self.scope.entity or ENTITIES[self.scope.entity_name])
            .collections[node.collection]
            .fields[node.name]
            .missing_is_unknown
        ):
            self.trace.note_missing(path)
        return value

    def _param(self, node: ParamRef) -> Value:
        value = self.scope.param(node.key)
        self.trace.reads[f"param:{node.key}"] = value
        if value is None and node.key not in self.trace.missing_params:
            self.trace.missing_params.append(node.key)
        return value

    def _call(self, node: Call) -> Value:
        args = [self.eval(a) for a in node.args]
        if node.func == "overlaps":
            start, end, lo, hi = args
            # a missing end means the spell is still running
            return and3([None if start is None or hi is None else start <= hi, _end_after(end, lo)])
        if any(a is None for a in args):
            return None
        return _SCALAR[node.func](self, *args)

    def _compare(self, node: Compare) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        if left is None or right is None:
            return None
        return _COMPARE[node.op](left, right)

    def _is_null(self, node: IsNull) -> Value:
        missing_before = list(self.trace.missing)
        value = self.eval(node.operand)
        # asking whether a fact is absent is an answer, not a gap
        self.trace.missing[:] = missing_before
        return (value is not None) if node.negated else (value is None)

    def _contains(self, node: Contains) -> Value:
        container, item = self.eval(node.container), self.eval(node.item)
        if container is None or item is None:
            return None
        return item in container

    def _in_values(self, node: InValues) -> Value:
        value = self.eval(node.operand)
        if value is None:
            return None
        return (value not in node.values) if node.negated else (value in node.values)

    def _bool_op(self, node: BoolOp) -> Value:
        values = [self.eval(item) for item in node.items]
        return and3(values) if node.op == "and" else or3(values)

    def _not(self, node: Not) -> Value:
        value = self.eval(node.operand)
        return None if value is None else not value

    def _arith(self, node: Arith) -> Value:
        left, right = self.eval(node.left), self.eval(node.right)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        return left * right

    def _extreme(self, node: Extreme) -> Value:
        values = [self.eval(a) for a in node.args]
        if any(v is None for v in values):
            return None
        return min(values) if node.op == "min" else max(values)

    def _coalesce(self, node: Coalesce) -> Value:
        for arg in node.args:
            value = self.eval(arg)
            if value is not None:
                return value
        return None

    def _if_else(self, node: IfElse) -> Value:
        condition = self.eval(node.condition)
        if condition is None:
            return None
        return self.eval(node.then if condition else node.otherwise)

    def _aggregate(self, node: Aggregate) -> Value:
        rows = self.scope.collections.get(node.collection) or []
        included: list[Value] = []
        unknown = False
        for index, row in enumerate(rows):
            self.row, self.row_path = row, f"{self.scope.entity_name}.{node.collection}[{index}]"
            try:
                where = True if node.where is None else self.eval(node.where)
                if where is False:
                    continue
                value = self.eval(node.expr)
            finally:
                self.row = None
            if node.kind in ("any", "all"):
                # any: the row counts if (where and value); all: if (where and not value)
                hit = and3([where, value if node.kind == "any" else (None if value is None else not value)])
                if hit is True:
                    return node.kind == "any"
                unknown = unknown or hit is None
                continue
            if where is None or value is None:
                unknown = True
                continue
            included.append(value)
        if node.kind in ("any", "all"):
            return None if unknown else node.kind == "all"
        if unknown:
            return None
        if node.kind == "sum":
            return sum(included)
        if not included:
            return None if node.default is None else self.eval(node.default)
        return max(included) if node.kind == "max" else min(included)


def _end_after(end: Value, lo: Value) -> Value:
    if end is None:
        return True
    if lo is None:
        return None
    return bool(end >= lo)


def _month_index(_: Interpreter, day: dt.date) -> int:
    return day.year * 12 + day.month - 1


# An 18-character citizen ID shape: 17 ASCII digits and a check character; the birth-date
# functions also want a year from 1800 to 2099, so both back ends agree on what is a date.
ID_SHAPE = "[0-9]{17}[0-9X]"
ID_DATED_SHAPE = "[0-9]{6}(18|19|20)[0-9]{9}[0-9X]"


def _id_checksum_ok(_: Interpreter, text: str) -> bool:
    return re.fullmatch(ID_SHAPE, text) is not None and check_digit(text[:17]) == text[17]


def _id_birth_date(_: Interpreter, text: str) -> dt.date | None:
    if re.fullmatch(ID_DATED_SHAPE, text) is None:
        return None
    try:
        return dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return None


def _id_sex(_: Interpreter, text: str) -> str | None:
    if re.fullmatch(ID_SHAPE, text) is None:
        return None
    return "男" if int(text[16]) % 2 == 1 else "女"


_SCALAR: dict[str, Callable[..., Value]] = {
    "province": lambda _, code: code[:2],
    "city": lambda _, code: code[:4],
    "county": lambda _, code: code[:6],
    "year": lambda _, day: day.year,
    "month_index": _month_index,
    "add_years": lambda _, day, n: add_years(day, n),
    "add_days": lambda _, day, n: day + dt.timedelta(days=n),
    "days_between": lambda _, a, b: (b - a).days,
    "key_county": lambda self, code: code[:6] in self.scope.key_counties,
    "length": lambda _, text: len(text),
    "matches": lambda _, text, pattern: re.fullmatch(pattern, text, re.ASCII) is not None,
    "id_checksum_ok": _id_checksum_ok,
    "id_birth_date": _id_birth_date,
    "id_sex": _id_sex,
}

_DISPATCH: dict[type, Callable[[Interpreter, Any], Value]] = {
    Literal: Interpreter._literal,
    CaseVariable: Interpreter._case_variable,
    FieldRef: Interpreter._field,
    RowField: Interpreter._row_field,
    ParamRef: Interpreter._param,
    Call: Interpreter._call,
    Compare: Interpreter._compare,
    IsNull: Interpreter._is_null,
    Contains: Interpreter._contains,
    InValues: Interpreter._in_values,
    BoolOp: Interpreter._bool_op,
    Not: Interpreter._not,
    Arith: Interpreter._arith,
    Extreme: Interpreter._extreme,
    Coalesce: Interpreter._coalesce,
    IfElse: Interpreter._if_else,
    Aggregate: Interpreter._aggregate,
}
