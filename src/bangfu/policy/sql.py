"""Compile rule expressions to SQL (DuckDB dialect; SQLGlot transpiles it for Spark).

SQL NULL is the interpreter's ``None``: AND, OR, NOT, comparisons and IN already follow Kleene
logic in SQL, and everything else (CASE, LEAST, aggregates) is written out so that it does too.
An aggregation over a collection becomes columns of a GROUP BY subquery (for any/all one code:
2 = some row hit, 1 = some row unknown, 0 = neither; for sum/max/min an "unknown row" flag and the
value), from which the entity-level value is rebuilt exactly as ``Interpreter._aggregate``
computes it. Per-row values that several aggregations share are computed once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

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
from bangfu.policy.interpreter import ID_DATED_SHAPE, ID_SHAPE, Interpreter, Scope

PREFIX_LENGTHS = {"province": 2, "city": 4, "county": 6}  # leading digits of a GB/T 2260 code


class CompileError(ValueError):
    pass


_ALIAS = "__alias__"  # stands for an aggregation's column name until it is known


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise CompileError(f"cannot write {value!r} as SQL")


@dataclass
class AggregateColumns:
    alias: str  # e.g. a3
    node: Aggregate
    needs_base: bool


@dataclass(frozen=True)
class Layout:
    """How a population's tables are shaped, when not one table per collection.

    ``inline``: a collection held in the entity's own row — at most one row, as columns named with
    the given prefix; the row is absent when its first field is NULL. ``empty``: collections not
    held at all (always empty). ``flags``: a list-valued fact held as one boolean column per
    choice (``categories`` with prefix ``cat_`` -> ``cat_poverty_alleviated``).
    ``non_null``: columns the table's schema declares NOT NULL.
    """

    inline: dict[str, str] = field(default_factory=dict)
    empty: frozenset[str] = frozenset()
    flags: dict[str, str] = field(default_factory=dict)
    # columns of the entity table that the schema declares NOT NULL: tests for "unknown" on them
    # can be left out of the SQL (the answer is the same, the query is shorter)
    non_null: frozenset[str] = frozenset()


@dataclass
class Compiler:
    """Compiles expressions for one entity and one evaluation date.

    ``constants`` holds parameter values that are the same for every region (inlined);
    ``param_columns`` names the columns that carry region-dependent parameter values.
    """

    case_variables: dict[str, object]
    constants: dict[str, object]
    param_columns: dict[str, str]
    key_counties: frozenset[str]
    layout: Layout = field(default_factory=Layout)
    aggregates: dict[str, list[AggregateColumns]] = field(default_factory=dict)
    # entity-level value of every grouped aggregation, computed once per row and referenced by name
    entity_columns: dict[str, str] = field(default_factory=dict)
    _by_sql: dict[tuple[str, tuple[str, ...], str], str] = field(default_factory=dict)
    _inner: dict[str, list[str]] = field(default_factory=dict)
    _row_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    _in_aggregate: bool = False
    _needs_base: bool = False
    _inline_prefix: str | None = None
    # inline collections whose one row is known to be there with these conditions TRUE
    _assumed: dict[str, frozenset[Node]] = field(default_factory=dict)

    def outer(self, node: Node) -> str:
        """SQL over the entity row ``f`` joined with one aggregate row per collection."""
        return self._sql(node)

    def may_be_unknown_given(self, node: Node, conditions: list[Node]) -> bool:
        """Whether ``node`` can be NULL for an entity whose ``conditions`` are all TRUE."""
        assumed = _established(conditions, self.layout)
        return self._may_be_unknown(node, None, assumed)

    def _may_be_unknown(self, node: Node, prefix: str | None, assumed: dict[str, frozenset[Node]]) -> bool:
        if isinstance(node, ParamRef):
            return node.key not in self.constants or self.constants[node.key] is None
        if isinstance(node, Aggregate):
            if node.collection in self.layout.empty:
                return node.kind in ("max", "min") and (
                    node.default is None or self._may_be_unknown(node.default, prefix, assumed)
                )
            if node.collection not in self.layout.inline or node.kind not in ("sum", "max", "min"):
                return True
            if not _conjuncts(node.where) <= assumed.get(node.collection, frozenset({_ABSENT})):
                return True
            return self._may_be_unknown(node.expr, self.layout.inline[node.collection], assumed)
        if isinstance(node, Extreme | Arith | Compare):
            return any(self._may_be_unknown(child, prefix, assumed) for child in node.children())
        if isinstance(node, RowField) and prefix is None:
            return True
        return _nullable(node, prefix or "", self.layout.non_null)

    def outer_given(self, node: Node, conditions: list[Node]) -> str:
        """SQL for ``node`` where it is only ever used when every one of ``conditions`` is TRUE.

        A benefit's amount is read only for an eligible entity, so what its conditions establish
        about a flat layout's row (it is there, and its tests pass) need not be tested again.
        """
        self._assumed = _established(conditions, self.layout)
        try:
            return self._sql(node)
        finally:
            self._assumed = {}

    def _sql(self, node: Node) -> str:
        if isinstance(node, _Raw):
            return node.sql
        distributed = self._distribute_over_inline(node)
        if distributed is not None:
            return distributed
        if isinstance(node, Literal):
            return literal(node.value)
        if isinstance(node, CaseVariable):
            return literal(self.case_variables[node.name])
        if isinstance(node, FieldRef):
            if self._in_aggregate:
                self._needs_base = True
                return f"b.{quote(node.name)}"
            return f"f.{quote(node.name)}"
        if isinstance(node, RowField):
            if self._inline_prefix is not None:
                return f"f.{quote(self._inline_prefix + node.name)}"
            if not self._in_aggregate:
                raise CompileError(f"row field {node.name} outside an aggregation")
            return f"c.{quote(node.name)}"
        if isinstance(node, ParamRef):
            if node.key in self.constants:
                return literal(self.constants[node.key])
            if self._in_aggregate:
                self._needs_base = True
                return f"b.{quote(self.param_columns[node.key])}"
            return f"f.{quote(self.param_columns[node.key])}"
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Compare):
            prefix_test = self._prefix_test(node)
            if prefix_test is not None:
                return prefix_test
            op = {"==": "=", "!=": "<>"}.get(node.op, node.op)
            return f"({self._sql(node.left)} {op} {self._sql(node.right)})"
        if isinstance(node, IsNull):
            return f"({self._sql(node.operand)} IS {'NOT ' if node.negated else ''}NULL)"
        if isinstance(node, Contains):
            flag = self._flag_column(node)
            if flag is not None:
                return flag
            return f"LIST_CONTAINS({self._sql(node.container)}, {self._sql(node.item)})"
        if isinstance(node, InValues):
            values = ", ".join(literal(v) for v in node.values)
            return f"({self._sql(node.operand)} {'NOT ' if node.negated else ''}IN ({values}))"
        if isinstance(node, BoolOp):
            joiner = f" {node.op.upper()} "
            return "(" + joiner.join(self._sql(item) for item in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self._sql(node.operand)})"
        if isinstance(node, Arith):
            return f"({self._sql(node.left)} {node.op} {self._sql(node.right)})"
        if isinstance(node, Extreme):
            return self._extreme(node)
        if isinstance(node, Coalesce):
            return f"COALESCE({', '.join(self._sql(a) for a in node.args)})"
        if isinstance(node, IfElse):
            cond = self._sql(node.condition)
            return (
                f"(CASE WHEN {cond} THEN {self._sql(node.then)} WHEN NOT {cond} THEN {self._sql(node.otherwise)} END)"
            )
        if isinstance(node, Aggregate):
            return self._aggregate(node)
        raise CompileError(f"no SQL for {type(node).__name__}")

    def _prefix_test(self, node: Compare) -> str | None:
        """``province(code) == '14'`` as a prefix test: same answer (NULL included), no substring built."""
        if node.op not in ("==", "!="):
            return None
        for call, other in ((node.left, node.right), (node.right, node.left)):
            if (
                isinstance(call, Call)
                and call.func in PREFIX_LENGTHS
                and isinstance(other, Literal)
                and isinstance(other.value, str)
                and len(other.value) == PREFIX_LENGTHS[call.func]
            ):
                test = f"STARTS_WITH({self._sql(call.args[0])}, {literal(other.value)})"
                return f"({test})" if node.op == "==" else f"(NOT {test})"
        return None

    def _flag_column(self, node: Contains) -> str | None:
        container, item = node.container, node.item
        if not (isinstance(container, FieldRef) and container.name in self.layout.flags):
            return None
        if not isinstance(item, Literal):
            raise CompileError(f"{container.name} is held as flags: membership needs a constant")
        table = "b" if self._in_aggregate else "f"
        return f"{table}.{quote(self.layout.flags[container.name] + str(item.value))}"

    def _constant(self, node: Node) -> tuple[bool, object]:
        """Whether ``node`` has one value for the whole run (then constant folding may use it)."""
        if isinstance(node, Literal):
            return True, node.value
        if isinstance(node, CaseVariable):
            return True, self.case_variables[node.name]
        if isinstance(node, ParamRef) and node.key in self.constants:
            return True, self.constants[node.key]
        return False, None

    def _extreme(self, node: Extreme) -> str:
        constants = [self._constant(a) for a in node.args]
        func = "LEAST" if node.op == "min" else "GREATEST"
        if all(is_constant for is_constant, _ in constants):  # e.g. max(year_start, valid_from)
            values = [v for _, v in constants]
            if None in values:
                return "NULL"
            return literal(min(values) if node.op == "min" else max(values))  # type: ignore[type-var]
        if any(is_constant and value is None for is_constant, value in constants):
            return "NULL"
        known = [value for is_constant, value in constants if is_constant]
        if len(known) > 1:  # max(e.start, year_start, valid_from): the constants folded into one, so that
            # documents whose dates differ but give the same bound compile to the same SQL (one aggregation)
            bound = min(known) if node.op == "min" else max(known)  # type: ignore[type-var]
            rest = tuple(a for a, (is_constant, _) in zip(node.args, constants, strict=True) if not is_constant)
            return self._extreme(Extreme(node.op, (*rest, Literal(bound, node.type)), node.type))
        args = [self._sql(a) for a in node.args]
        if len(args) == 2 and sum(is_constant for is_constant, _ in constants) == 1:
            if not any(isinstance(a, _Raw) and a.nullable for a in node.args) and all(
                isinstance(a, _Raw) or is_constant for a, (is_constant, _) in zip(node.args, constants, strict=True)
            ):
                return f"{func}({', '.join(args)})"  # nothing can be NULL: LEAST's NULL-skipping never shows
            # min(x, 800 元): a NULL x falls to ELSE and stays NULL, with x written twice, not thrice
            x, bound = (args[1], args[0]) if constants[0][0] else (args[0], args[1])
            beyond = ">" if node.op == "min" else "<"
            return f"(CASE WHEN {x} {beyond} {bound} THEN {bound} ELSE {x} END)"
        # only arguments that can be NULL need the test that keeps LEAST/GREATEST from skipping NULLs
        nullable = [sql for sql, (is_constant, _) in zip(args, constants, strict=True) if not is_constant]
        any_null = " OR ".join(f"{a} IS NULL" for a in nullable)
        return f"(CASE WHEN {any_null} THEN NULL ELSE {func}({', '.join(args)}) END)"

    def _call(self, node: Call) -> str:
        args = [self._sql(a) for a in node.args]
        name = node.func
        if name in PREFIX_LENGTHS:
            return f"SUBSTRING({args[0]}, 1, {PREFIX_LENGTHS[name]})"
        if name == "year":
            return f"CAST(EXTRACT(YEAR FROM {args[0]}) AS BIGINT)"
        if name == "month_index":
            return f"CAST(EXTRACT(YEAR FROM {args[0]}) * 12 + EXTRACT(MONTH FROM {args[0]}) - 1 AS BIGINT)"
        if name == "add_years":
            years = node.args[1]
            value = years.value if isinstance(years, Literal) else self.constants.get(getattr(years, "key", ""))
            if not isinstance(value, int):
                raise CompileError("add_years needs a number of years that is the same in every region")
            return f"CAST({args[0]} + INTERVAL {value} YEAR AS DATE)"
        if name == "add_days":
            return f"({args[0]} + CAST({args[1]} AS INTEGER))"
        if name == "days_between":
            return f"DATE_DIFF('day', {args[0]}, {args[1]})"
        if name == "overlaps":
            start, end, lo, hi = args
            return f"(({start} <= {hi}) AND ({end} IS NULL OR {end} >= {lo}))"
        if name == "key_county":
            if not self.key_counties:
                return f"(CASE WHEN {args[0]} IS NULL THEN NULL ELSE FALSE END)"
            codes = ", ".join(literal(c) for c in sorted(self.key_counties))
            return f"(SUBSTRING({args[0]}, 1, 6) IN ({codes}))"
        if name == "length":
            return f"CAST(LENGTH({args[0]}) AS BIGINT)"
        if name == "matches":
            return f"REGEXP_FULL_MATCH({args[0]}, {args[1]})"
        if name in ("id_checksum_ok", "id_birth_date", "id_sex"):
            return _citizen_id_sql(name, args[0])
        raise CompileError(f"no SQL for function {name}")

    def _aggregate(self, node: Aggregate) -> str:
        if self._in_aggregate or self._inline_prefix is not None:
            raise CompileError("nested aggregation")
        # a flat layout's aggregation is an expression over the entity's own row: no join needed
        if node.collection in self.layout.empty:
            return self._empty_aggregate(node)
        if node.collection in self.layout.inline:
            return self._inline_aggregate(node, self.layout.inline[node.collection])
        # the same aggregation is computed once, whichever rule or document asks for it: keyed by its SQL,
        # since the same expression compiles differently for documents with other dates or parameters
        self._in_aggregate, self._needs_base = True, False
        try:
            inner = self._aggregate_columns(node, _ALIAS)
        finally:
            self._in_aggregate = False
        entity_column = self._grouped_aggregate(node, _ALIAS)
        identity = (node.collection, tuple(inner), entity_column)
        alias = self._by_sql.get(identity)
        if alias is None:
            alias = f"__a{len(self._by_sql)}"
            self._by_sql[identity] = alias
            self._inner[alias] = [column.replace(_ALIAS, alias) for column in inner]
            self.aggregates.setdefault(node.collection, []).append(AggregateColumns(alias, node, self._needs_base))
            self.entity_columns[alias] = entity_column.replace(_ALIAS, alias)
        return f"f.{quote(alias)}"

    def switch_document(
        self,
        case_variables: dict[str, object],
        constants: dict[str, object],
        param_columns: dict[str, str],
        key_counties: frozenset[str],
    ) -> None:
        """Compile what follows for another document, into the same aggregations and columns (one pass
        over the population for every document of a set, ``population_set``)."""
        self.case_variables, self.constants = case_variables, constants
        self.param_columns, self.key_counties = param_columns, key_counties

    def _grouped_aggregate(self, node: Aggregate, alias: str) -> str:
        """The entity-level value of the aggregation, read from its group's ``alias`` columns."""
        ref = f"{quote('g_' + node.collection)}"
        unknown, value = f"{ref}.{alias}_u", f"{ref}.{alias}_v"
        if node.kind in ("any", "all"):
            # the value is 2 if some row hit, else 1 if some row was unknown, else 0 (or NULL: no rows)
            hit, miss = ("TRUE", "FALSE") if node.kind == "any" else ("FALSE", "TRUE")
            return f"(CASE {value} WHEN 2 THEN {hit} WHEN 1 THEN NULL ELSE {miss} END)"
        # no unknown row: an included row always has a value, so a NULL aggregate means no row was included
        if node.kind == "sum":
            return f"(CASE WHEN {unknown} THEN NULL ELSE COALESCE({value}, 0) END)"
        return f"(CASE WHEN {unknown} THEN NULL ELSE COALESCE({value}, {self._default(node)}) END)"

    def _default(self, node: Aggregate) -> str:
        return self._sql(node.default) if node.default is not None else "NULL"

    def _empty_aggregate(self, node: Aggregate) -> str:
        return {"any": "FALSE", "all": "TRUE", "sum": "CAST(0 AS BIGINT)"}.get(node.kind) or self._default(node)

    def _distribute_over_inline(self, node: Node) -> str | None:
        """``f(inline aggregate, constant)`` as ``CASE WHEN included THEN f(value) ... END``.

        Compare, Arith and min/max are strict (unknown in, unknown out), so applying them inside
        each branch gives the same answer, and the inline aggregate's test is written once per
        branch instead of once per use: min(travel cost, 800 元) then costs one test, not four.
        """
        if not isinstance(node, Compare | Arith | Extreme) or not self.layout.inline:
            return None
        operands = [node.left, node.right] if isinstance(node, Compare | Arith) else list(node.args)
        if len(operands) != 2:
            return None
        for index, operand in enumerate(operands):
            other = operands[1 - index]
            if (
                isinstance(operand, Aggregate)
                and operand.kind in ("sum", "max", "min")
                and operand.collection in self.layout.inline
                and self._constant(other)[0]
            ):
                prefix = self.layout.inline[operand.collection]
                included, value, absent, unknowable = self._inline_parts(operand, prefix)
                value_known = not _nullable(operand.expr, prefix, self.layout.non_null)
                then = self._sql(_rebuild(node, index, _Raw(value, operand.type, not value_known), other))
                if included == "TRUE":
                    return then
                absent_node = _absent_value(operand)
                folded = self._fold(_rebuild(node, index, absent_node, other)) if absent_node else None
                if folded is not None and not unknowable and isinstance(folded[0], bool):
                    # e.g. sum(days) >= 1 with no row is FALSE: "included AND days >= 1"
                    return f"({included} AND {then})" if not folded[0] else f"(NOT {included} OR {then})"
                otherwise = (
                    literal(folded[0])
                    if folded is not None
                    else self._sql(_rebuild(node, index, _Raw(absent, operand.type, absent == "NULL"), other))
                )
                if not unknowable:
                    return f"(CASE WHEN {included} THEN {then} ELSE {otherwise} END)"
                return f"(CASE WHEN {included} THEN {then} WHEN NOT {included} THEN {otherwise} END)"
        return None

    def _fold(self, node: Node | None) -> tuple[object] | None:
        """The value of a node made only of constants, computed as the interpreter would."""
        if node is None or not all(self._constant(child)[0] for child in node.children()):
            return None
        left, right = (Literal(self._constant(child)[1], child.type) for child in node.children())
        constant_node = _rebuild(node, 0, left, right)
        scope = Scope({}, {}, self.case_variables, lambda key: None, self.key_counties, "person")
        return (Interpreter(scope).eval(constant_node),)

    def _inline_parts(self, node: Aggregate, prefix: str) -> tuple[str, str, str, bool]:
        """(included, value, absent, included may be unknown) of an inline aggregation."""
        fields = _collection_fields(node)
        first_field = fields[0] if fields else None
        self._inline_prefix = prefix
        try:
            where = self._sql(node.where) if node.where is not None else None
            expr = self._sql(node.expr)
            present = f"(f.{quote(prefix + first_field)} IS NOT NULL)" if first_field else "TRUE"
        finally:
            self._inline_prefix = None
        included = f"({present} AND {where})" if where else present
        absent = "CAST(0 AS BIGINT)" if node.kind == "sum" else self._default(node)
        if _conjuncts(node.where) <= self._assumed.get(node.collection, frozenset({_ABSENT})):
            return "TRUE", expr, absent, False
        # the row's marker column is known to be set whenever the row is there
        known = self.layout.non_null | {prefix + first_field} if first_field else self.layout.non_null
        unknowable = node.where is not None and _nullable(node.where, prefix, known)
        return included, expr, absent, unknowable

    def _inline_aggregate(self, node: Aggregate, prefix: str) -> str:
        """The same three-valued result over at most one row held in the entity's own columns.

        With ``included = present AND where``, a value is ``expr`` when included, the default when
        surely not, and unknown otherwise.
        """
        included, expr, absent, unknowable = self._inline_parts(node, prefix)
        if node.kind == "any":
            return f"({included} AND {expr})"
        if node.kind == "all":
            return f"(NOT ({included} AND NOT {expr}))"
        if included == "TRUE":
            return expr
        if not unknowable:
            return f"(CASE WHEN {included} THEN {expr} ELSE {absent} END)"
        return f"(CASE WHEN {included} THEN {expr} WHEN NOT {included} THEN {absent} END)"

    def _row_column(self, collection: str, sql: str) -> str:
        """A per-row value of the collection, computed once however many aggregates use it."""
        columns = self._row_columns.setdefault(collection, {})
        if sql not in columns:
            columns[sql] = f"__r{len(columns)}"
        return f"r.{columns[sql]}"

    def _aggregate_columns(self, node: Aggregate, alias: str) -> list[str]:
        expr_sql = self._sql(node.expr)
        where_sql = self._sql(node.where) if node.where is not None else None
        if node.kind in ("any", "all"):
            body = expr_sql if node.kind == "any" else f"(NOT {expr_sql})"
            hit = self._row_column(node.collection, f"({where_sql} AND {body})" if where_sql else body)
            return [f"MAX(CASE WHEN {hit} THEN 2 WHEN {hit} IS NULL THEN 1 ELSE 0 END) AS {alias}_v"]
        expr = self._row_column(node.collection, expr_sql)
        func = {"sum": "SUM", "max": "MAX", "min": "MIN"}[node.kind]
        if where_sql is None:
            unknown, value = f"{expr} IS NULL", f"{func}({expr})"
        else:
            where = self._row_column(node.collection, where_sql)
            unknown = f"{where} IS NULL OR ({where} AND {expr} IS NULL)"
            value = f"{func}(CASE WHEN {where} THEN {expr} END)"
        if node.kind == "sum":
            value = f"CAST({value} AS BIGINT)"
        return [f"BOOL_OR({unknown}) AS {alias}_u", f"{value} AS {alias}_v"]

    def aggregate_select(self, collection: str, table: str, key: str, base: str, restricted: bool = False) -> str:
        """The GROUP BY subquery for one collection, with every aggregate registered so far.

        ``restricted``: ``base`` holds only some of the entities (a county's document); the join
        keeps the rows of the others out of the aggregation.
        """
        specs = self.aggregates[collection]
        columns = ",\n    ".join(col for spec in specs for col in self._inner[spec.alias])
        joined = restricted or any(s.needs_base for s in specs)
        join = f" JOIN {base} b ON b.{quote(key)} = c.{quote(key)}" if joined else ""
        rows = ", ".join(f"{sql} AS {name}" for sql, name in self._row_columns.get(collection, {}).items())
        return (
            f"SELECT r.{quote(key)} AS {quote(key)},\n    {columns}\n"
            f"  FROM (SELECT c.{quote(key)}, {rows} FROM {quote(table)} c{join}) r\n  GROUP BY r.{quote(key)}"
        )


_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643, as core.citizen_id


def _citizen_id_sql(name: str, text: str) -> str:
    """The ID functions of ``interpreter.py`` in SQL; a NULL number gives NULL, a malformed one FALSE/NULL.

    Digits are read with ASCII() - 48 rather than a cast, so no row can raise an error, whatever
    the branch order the engine picks.
    """
    shaped = f"REGEXP_FULL_MATCH({text}, '{ID_SHAPE}')"
    if name == "id_checksum_ok":
        total = " + ".join(f"(ASCII(SUBSTRING({text}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(_CHECK_WEIGHTS))
        expected = f"SUBSTRING('10X98765432', CAST(({total}) % 11 AS INTEGER) + 1, 1)"
        return f"(CASE WHEN {shaped} THEN {expected} = SUBSTRING({text}, 18, 1) WHEN {text} IS NOT NULL THEN FALSE END)"
    if name == "id_sex":
        odd = f"(ASCII(SUBSTRING({text}, 17, 1)) - 48) % 2 = 1"
        return f"(CASE WHEN {shaped} THEN (CASE WHEN {odd} THEN '男' ELSE '女' END) END)"
    dated = f"REGEXP_FULL_MATCH({text}, '{ID_DATED_SHAPE}')"
    return f"(CASE WHEN {dated} THEN CAST(TRY_STRPTIME(SUBSTRING({text}, 7, 8), '%Y%m%d') AS DATE) END)"


def _collection_fields(node: Aggregate) -> list[str]:
    """Field names of the aggregated collection, first one first (it marks whether the row exists)."""
    from bangfu.policy.facts import ENTITIES

    for entity in ENTITIES.values():
        collection = entity.collections.get(node.collection)
        if collection is not None:
            return list(collection.fields)
    return []


@dataclass(frozen=True, eq=True)
class _Raw(Node):
    """SQL already written, standing in for an operand while a node is rebuilt around it."""

    sql: str
    type: str
    nullable: bool = True


def _nullable(node: Node, prefix: str, non_null: frozenset[str] | set[str]) -> bool:
    """Whether ``node`` can be unknown, given the inline row's columns known to be set."""
    if isinstance(node, Literal):
        return node.value is None
    if isinstance(node, CaseVariable | IsNull):
        return False
    if isinstance(node, RowField):
        return prefix + node.name not in non_null
    if isinstance(node, FieldRef):
        return node.name not in non_null
    if isinstance(node, Call) and node.func == "overlaps":  # a missing end date means "still running"
        return any(_nullable(a, prefix, non_null) for i, a in enumerate(node.args) if i != 1)
    if isinstance(node, Call | Compare | Arith | Extreme | BoolOp | Not | InValues | Contains):
        return any(_nullable(child, prefix, non_null) for child in node.children())
    return True  # entity fields, parameters, anything else: assume it may be unknown


_ABSENT = Literal("__no assumption__", "str")  # a conjunct no real expression equals


def _absent_value(node: Aggregate) -> Node | None:
    """The value of an inline aggregation when its row is surely not included, as a constant node."""
    if node.kind == "sum":
        return Literal(0, "int")
    if node.default is None or isinstance(node.default, Literal):
        return node.default or Literal(None, node.type)
    return None


def _conjuncts(node: Node | None) -> frozenset[Node]:
    if node is None:
        return frozenset()
    if isinstance(node, BoolOp) and node.op == "and":
        return frozenset().union(*(_conjuncts(item) for item in node.items))
    return frozenset({node})


def _established(conditions: list[Node], layout: Layout) -> dict[str, frozenset[Node]]:
    """For each inline collection: the row tests that TRUE ``conditions`` guarantee to pass.

    ``any(E for e in C if W)`` TRUE over at most one row means the row is there with W and E
    TRUE; so does ``sum(E for e in C if W) >= k`` with k >= 1.
    """
    known: dict[str, frozenset[Node]] = {}
    for condition in conditions:
        for part in _conjuncts(condition):
            aggregate: Aggregate | None = None
            facts: frozenset[Node] = frozenset()
            if isinstance(part, Aggregate) and part.kind == "any":
                aggregate, facts = part, _conjuncts(part.expr)
            elif (
                isinstance(part, Compare)
                and part.op in (">=", ">")
                and isinstance(part.left, Aggregate)
                and part.left.kind == "sum"
                and isinstance(part.right, Literal)
                and isinstance(part.right.value, int)
                and part.right.value >= (1 if part.op == ">=" else 0)
            ):
                aggregate = part.left
            if aggregate is not None and aggregate.collection in layout.inline:
                established = facts | _conjuncts(aggregate.where)
                known[aggregate.collection] = known.get(aggregate.collection, frozenset()) | established
    return known


def _rebuild(node: Node, index: int, operand: Node, other: Node) -> Node:
    """``node`` (Compare, Arith or two-argument min/max) with ``operand`` at ``index``, ``other`` beside it."""
    left, right = (operand, other) if index == 0 else (other, operand)
    if isinstance(node, Compare):
        return Compare(node.op, left, right)
    if isinstance(node, Arith):
        return Arith(node.op, left, right)
    assert isinstance(node, Extreme)
    return Extreme(node.op, (left, right), node.type)
