"""Rule expressions: a small, typed, side-effect-free language written in Python syntax.

A policy file writes a condition such as
``any(province(e.work_region) != '14' for e in employment if overlaps(e.start, e.end, year_start, year_end))``.
The text is parsed with :mod:`ast` into the node tree below and checked against the fact schema;
it is never executed by Python. The same tree is interpreted for one case (with a trace for the
explanation) and compiled to SQL for a population, which is what keeps the two scales identical.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bangfu.policy.facts import Entity, FactType

NULL_TYPE = "null"
AGG_KINDS = ("any", "all", "sum", "max", "min")
CASE_VARIABLES = {
    "date": FactType.DATE,  # the date the case is evaluated for
    "year_start": FactType.DATE,  # 1 January of that date's calendar year
    "year_end": FactType.DATE,  # 31 December of that date's calendar year
    "valid_from": FactType.DATE,  # first day of the policy's validity period
    # the day the question is asked; differs from ``date`` when an expired document answers, as of its
    # last day, for an event of its period (model.Policy.decision_day): an application is dated asked_on
    "asked_on": FactType.DATE,
}

# name -> (argument types, result type); "any" accepts every type
SCALAR_FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "province": (("str",), "str"),
    "city": (("str",), "str"),
    "county": (("str",), "str"),
    "year": (("date",), "int"),
    "month_index": (("date",), "int"),
    "add_years": (("date", "int"), "date"),
    "add_days": (("date", "int"), "date"),
    "days_between": (("date", "date"), "int"),
    "overlaps": (("date", "date", "date", "date"), "bool"),
    "key_county": (("str",), "bool"),
    # text and citizen-ID functions, for suspect-data checks over raw downloads (see ADR 0012)
    "length": (("str",), "int"),
    "matches": (("str", "str"), "bool"),
    "id_checksum_ok": (("str",), "bool"),
    "id_birth_date": (("str",), "date"),
    "id_sex": (("str",), "str"),
}

# Regular expressions must mean the same in Python (re, ASCII mode) and in DuckDB (RE2): no
# look-around, back-references or inline flags, which only one of the two understands.
_UNPORTABLE_PATTERN = re.compile(r"\\(?:[1-9]|[bBAZzGpPkN])|\(\?")


class ExpressionError(ValueError):
    """A rule expression that cannot be parsed or does not fit the fact schema."""


class Node:
    type: str

    def children(self) -> Iterator[Node]:
        return iter(())

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True, eq=True)
class Literal(Node):
    value: object
    type: str


@dataclass(frozen=True, eq=True)
class CaseVariable(Node):
    name: str
    type: str


@dataclass(frozen=True, eq=True)
class FieldRef(Node):
    """A field of the entity being evaluated."""

    name: str
    type: str


@dataclass(frozen=True, eq=True)
class RowField(Node):
    """A field of the current row inside an aggregation over a collection."""

    collection: str
    name: str
    type: str


@dataclass(frozen=True, eq=True)
class ParamRef(Node):
    key: str
    type: str


@dataclass(frozen=True, eq=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]
    type: str

    def children(self) -> Iterator[Node]:
        return iter(self.args)


@dataclass(frozen=True, eq=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node
    type: str = "bool"

    def children(self) -> Iterator[Node]:
        return iter((self.left, self.right))


@dataclass(frozen=True, eq=True)
class IsNull(Node):
    operand: Node
    negated: bool
    type: str = "bool"

    def children(self) -> Iterator[Node]:
        return iter((self.operand,))


@dataclass(frozen=True, eq=True)
class Contains(Node):
    """``item in list_field``: membership in a list-valued fact."""

    container: Node
    item: Node
    type: str = "bool"

    def children(self) -> Iterator[Node]:
        return iter((self.container, self.item))


@dataclass(frozen=True, eq=True)
class InValues(Node):
    """``operand in ('a', 'b')``: membership in a literal tuple."""

    operand: Node
    values: tuple[object, ...]
    negated: bool
    type: str = "bool"

    def children(self) -> Iterator[Node]:
        return iter((self.operand,))


@dataclass(frozen=True, eq=True)
class BoolOp(Node):
    op: str  # and | or
    items: tuple[Node, ...]
    type: str = "bool"

    def children(self) -> Iterator[Node]:
        return iter(self.items)


@dataclass(frozen=True, eq=True)
class Not(Node):
    operand: Node
    type: str = "bool"

    def children(self) -> Iterator[Node]:
        return iter((self.operand,))


@dataclass(frozen=True, eq=True)
class Arith(Node):
    op: str  # + - *
    left: Node
    right: Node
    type: str = "int"

    def children(self) -> Iterator[Node]:
        return iter((self.left, self.right))


@dataclass(frozen=True, eq=True)
class Extreme(Node):
    """Scalar ``min(a, b, ...)`` / ``max(a, b, ...)``: unknown if any argument is unknown."""

    op: str  # min | max
    args: tuple[Node, ...]
    type: str

    def children(self) -> Iterator[Node]:
        return iter(self.args)


@dataclass(frozen=True, eq=True)
class Coalesce(Node):
    args: tuple[Node, ...]
    type: str

    def children(self) -> Iterator[Node]:
        return iter(self.args)


@dataclass(frozen=True, eq=True)
class IfElse(Node):
    condition: Node
    then: Node
    otherwise: Node
    type: str

    def children(self) -> Iterator[Node]:
        return iter((self.condition, self.then, self.otherwise))


@dataclass(frozen=True, eq=True)
class Aggregate(Node):
    """``kind(expr for row in collection if where)`` over one entity's rows."""

    kind: str  # any | all | sum | max | min
    collection: str
    expr: Node
    where: Node | None
    default: Node | None
    type: str

    def children(self) -> Iterator[Node]:
        yield self.expr
        if self.where is not None:
            yield self.where
        if self.default is not None:
            yield self.default


@dataclass
class ParseContext:
    entity: Entity
    param_types: dict[str, str]
    # generator variable -> collection name, for the aggregation being parsed
    row_vars: dict[str, str] = field(default_factory=dict)
    # names the policy loader defines for one benefit (``unpaid_units``), as ready-made trees
    names: dict[str, Node] = field(default_factory=dict)


def parse(text: str, entity: Entity, param_types: dict[str, str], names: dict[str, Node] | None = None) -> Node:
    """Parse and type-check one expression; raises ExpressionError in Chinese on any problem.

    ``names``: extra names the expression may use, each standing for a tree built by the caller.
    """
    try:
        # parentheses let a policy file break a long expression over several lines
        tree = ast.parse(f"(\n{text.strip()}\n)", mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"表达式语法错误（第 {(exc.lineno or 2) - 1} 行附近）：{text}") from exc
    return _Parser(ParseContext(entity, param_types, names=dict(names or {}))).node(tree.body)


def _same_family(a: str, b: str) -> bool:
    return a == b or NULL_TYPE in (a, b)


class _Parser:
    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(f"{message}（表达式片段：{ast.unparse(node)}）")

    def node(self, n: ast.expr) -> Node:
        method = getattr(self, "_" + type(n).__name__, None)
        if method is None:
            raise self.fail(n, f"不支持的写法 {type(n).__name__}")
        result: Node = method(n)
        return result

    def _Constant(self, n: ast.Constant) -> Node:
        value = n.value
        if value is None:
            return Literal(None, NULL_TYPE)
        if isinstance(value, bool):
            return Literal(value, "bool")
        if isinstance(value, int):
            return Literal(value, "int")
        if isinstance(value, str):
            return Literal(value, "str")
        raise self.fail(n, "只支持整数、字符串、True/False/None 常量（金额用整数分）")

    def _Name(self, n: ast.Name) -> Node:
        name = n.id
        if name in self.ctx.row_vars:
            raise self.fail(n, f"{name} 是行变量，请写成 {name}.字段名")
        if name in CASE_VARIABLES:
            return CaseVariable(name, CASE_VARIABLES[name])
        if name in self.ctx.names:
            defined = self.ctx.names[name]
            if self.ctx.row_vars and any(isinstance(item, Aggregate) for item in defined.walk()):
                raise self.fail(n, f"{name} 本身含聚合，不能在 for … in 集合 中使用")
            return defined
        if name in ("True", "False"):
            return Literal(name == "True", "bool")
        entity = self.ctx.entity
        if name in entity.fields:
            return FieldRef(name, entity.fields[name].type.value)
        known = sorted([*CASE_VARIABLES, *entity.fields, *self.ctx.names])
        raise self.fail(n, f"未知的事实 {name}；{entity.label}可用的有：{', '.join(known)}")

    def _Attribute(self, n: ast.Attribute) -> Node:
        if not isinstance(n.value, ast.Name) or n.value.id not in self.ctx.row_vars:
            raise self.fail(n, "只能读取行变量的字段，如 e.start")
        collection_name = self.ctx.row_vars[n.value.id]
        collection = self.ctx.entity.collections[collection_name]
        if n.attr not in collection.fields:
            known = ", ".join(collection.fields)
            raise self.fail(n, f"{collection.label}没有字段 {n.attr}；可用的有：{known}")
        return RowField(collection_name, n.attr, collection.fields[n.attr].type.value)

    def _BoolOp(self, n: ast.BoolOp) -> Node:
        items = tuple(self.expect(v, "bool") for v in n.values)
        return BoolOp("and" if isinstance(n.op, ast.And) else "or", items)

    def _UnaryOp(self, n: ast.UnaryOp) -> Node:
        if isinstance(n.op, ast.Not):
            return Not(self.expect(n.operand, "bool"))
        if isinstance(n.op, ast.USub):
            return Arith("-", Literal(0, "int"), self.expect(n.operand, "int"))
        raise self.fail(n, "不支持的一元运算")

    def _BinOp(self, n: ast.BinOp) -> Node:
        ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}
        op = ops.get(type(n.op))
        if op is None:
            raise self.fail(n, "只支持 + - * 运算；金额为整数分，不做除法以免舍入")
        return Arith(op, self.expect(n.left, "int"), self.expect(n.right, "int"))

    def _IfExp(self, n: ast.IfExp) -> Node:
        then, otherwise = self.node(n.body), self.node(n.orelse)
        if not _same_family(then.type, otherwise.type):
            raise self.fail(n, f"条件表达式两个分支类型不同：{then.type} 与 {otherwise.type}")
        result_type = then.type if then.type != NULL_TYPE else otherwise.type
        return IfElse(self.expect(n.test, "bool"), then, otherwise, result_type)

    def _Compare(self, n: ast.Compare) -> Node:
        if len(n.ops) != 1:
            raise self.fail(n, "请不要连写比较，改用 and 连接")
        op, left_ast, right_ast = n.ops[0], n.left, n.comparators[0]
        if isinstance(op, ast.Is | ast.IsNot):
            if not (isinstance(right_ast, ast.Constant) and right_ast.value is None):
                raise self.fail(n, "is / is not 只能与 None 比较")
            return IsNull(self.node(left_ast), negated=isinstance(op, ast.IsNot))
        if isinstance(op, ast.In | ast.NotIn):
            return self._membership(n, left_ast, right_ast, negated=isinstance(op, ast.NotIn))
        symbols = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
        left, right = self.node(left_ast), self.node(right_ast)
        if not _same_family(left.type, right.type):
            raise self.fail(n, f"比较的两边类型不同：{left.type} 与 {right.type}")
        if NULL_TYPE in (left.type, right.type):
            raise self.fail(n, "与 None 比较请写 is None / is not None")
        return Compare(symbols[type(op)], left, right)

    def _membership(self, n: ast.Compare, left_ast: ast.expr, right_ast: ast.expr, negated: bool) -> Node:
        if isinstance(right_ast, ast.Tuple):
            operand = self.node(left_ast)
            values: list[object] = []
            for elt in right_ast.elts:
                lit = self.node(elt)
                if not isinstance(lit, Literal) or not _same_family(lit.type, operand.type):
                    raise self.fail(n, "in 后面的元组只能包含与左边同类型的常量")
                values.append(lit.value)
            return InValues(operand, tuple(values), negated)
        container = self.node(right_ast)
        if container.type != "str_list":
            raise self.fail(n, "in 的右边应为列表类事实（如 categories）或常量元组")
        item = self.expect(left_ast, "str")
        contains: Node = Contains(container, item)
        fact = self.ctx.entity.fields.get(container.name) if isinstance(container, FieldRef) else None
        if fact is not None and isinstance(item, Literal):
            if fact.choices and item.value not in fact.choices:
                raise self.fail(n, f"{fact.label}没有取值 {item.value!r}；可用的有：{', '.join(fact.choices)}")
            # a code with a declared hierarchy holds for any code it includes, on both back ends
            group = dict(fact.includes).get(str(item.value), ())
            if len(group) > 1:
                contains = BoolOp("or", tuple(Contains(container, Literal(code, "str")) for code in group))
        return Not(contains) if negated else contains

    def _Call(self, n: ast.Call) -> Node:
        if not isinstance(n.func, ast.Name):
            raise self.fail(n, "只能调用内置函数")
        name = n.func.id
        if name in AGG_KINDS and n.args and isinstance(n.args[0], ast.GeneratorExp):
            return self._aggregate(n, name)
        if n.keywords:
            raise self.fail(n, f"{name} 不接受关键字参数")
        if name == "param":
            return self._param(n)
        if name == "date":
            return self._date_literal(n)
        if name in ("min", "max"):
            args = tuple(self.expect(a, "int", "date") for a in n.args)
            if len(args) < 2 or len({a.type for a in args}) != 1:
                raise self.fail(n, f"{name}(a, b) 至少需要两个同类型参数")
            return Extreme(name, args, args[0].type)
        if name == "coalesce":
            args = tuple(self.node(a) for a in n.args)
            types = {a.type for a in args} - {NULL_TYPE}
            if len(args) < 2 or len(types) != 1:
                raise self.fail(n, "coalesce 至少需要两个同类型参数")
            return Coalesce(args, types.pop())
        if name not in SCALAR_FUNCTIONS:
            known = ", ".join(sorted([*SCALAR_FUNCTIONS, "param", "date", "min", "max", "coalesce", *AGG_KINDS]))
            raise self.fail(n, f"未知函数 {name}；可用的有：{known}")
        arg_types, result = SCALAR_FUNCTIONS[name]
        if len(n.args) != len(arg_types):
            raise self.fail(n, f"{name} 需要 {len(arg_types)} 个参数")
        args = tuple(self.expect(a, t) for a, t in zip(n.args, arg_types, strict=True))
        if name == "add_years" and not isinstance(args[1], Literal | ParamRef):
            raise self.fail(n, "add_years 的年数必须是常量或参数")
        if name == "matches":
            _check_pattern(self, n, args[1])
        return Call(name, args, result)

    def _param(self, n: ast.Call) -> Node:
        if len(n.args) != 1 or not isinstance(n.args[0], ast.Constant) or not isinstance(n.args[0].value, str):
            raise self.fail(n, "param 需要一个字符串参数，如 param('transport_cross_province.cap_fen')")
        key = n.args[0].value
        if key not in self.ctx.param_types:
            raise self.fail(n, f"未定义的参数 {key}")
        return ParamRef(key, self.ctx.param_types[key])

    def _date_literal(self, n: ast.Call) -> Node:
        if len(n.args) != 1 or not isinstance(n.args[0], ast.Constant) or not isinstance(n.args[0].value, str):
            raise self.fail(n, "date 需要一个 'YYYY-MM-DD' 字符串")
        try:
            return Literal(dt.date.fromisoformat(n.args[0].value), "date")
        except ValueError as exc:
            raise self.fail(n, "日期应为 'YYYY-MM-DD' 格式") from exc

    def _aggregate(self, n: ast.Call, kind: str) -> Node:
        gen = n.args[0]
        assert isinstance(gen, ast.GeneratorExp)
        if len(n.args) != 1 or len(gen.generators) != 1:
            raise self.fail(n, f"{kind}(... for x in 集合 if 条件) 只能有一个 for")
        comp = gen.generators[0]
        if not isinstance(comp.target, ast.Name) or not isinstance(comp.iter, ast.Name):
            raise self.fail(n, "请写成 for 变量 in 集合名")
        collection = comp.iter.id
        if collection not in self.ctx.entity.collections:
            known = ", ".join(self.ctx.entity.collections)
            raise self.fail(n, f"{self.ctx.entity.label}没有集合 {collection}；可用的有：{known}")
        if self.ctx.row_vars:
            raise self.fail(n, "聚合不能嵌套")
        if len(comp.ifs) > 1:
            raise self.fail(n, "请把多个 if 合并为一个，用 and 连接")
        self.ctx.row_vars[comp.target.id] = collection
        try:
            # max/min of text compare by code point, which is also UTF-8 byte order (DuckDB's)
            expected = ("bool",) if kind in ("any", "all") else ("int", "date", "str") if kind != "sum" else ("int",)
            expr = self.expect(gen.elt, *expected)
            where = self.expect(comp.ifs[0], "bool") if comp.ifs else None
        finally:
            self.ctx.row_vars.clear()
        default: Node | None = None
        for kw in n.keywords:
            if kw.arg != "default" or kind not in ("max", "min"):
                raise self.fail(n, "只有 max/min 聚合接受 default= 参数")
            default = self.node(kw.value)
            if not _same_family(default.type, expr.type):
                raise self.fail(n, "default 的类型应与聚合值相同")
        return Aggregate(kind, collection, expr, where, default, expr.type if kind != "any" else "bool")

    def expect(self, n: ast.expr, *types: str) -> Node:
        result = self.node(n)
        if result.type not in types and result.type != NULL_TYPE:
            raise self.fail(n, f"此处应为 {'/'.join(types)} 类型，实为 {result.type}")
        return result


def _check_pattern(parser: _Parser, n: ast.Call, pattern: Node) -> None:
    if not isinstance(pattern, Literal) or not isinstance(pattern.value, str):
        raise parser.fail(n, "matches 的第二个参数必须是字符串常量（正则表达式）")
    if _UNPORTABLE_PATTERN.search(pattern.value):
        raise parser.fail(n, "matches 的正则表达式不能使用 (? 开头的分组、反向引用或 \\b 等锚点")
    try:
        re.compile(pattern.value, re.ASCII)
    except re.error as exc:
        raise parser.fail(n, f"matches 的正则表达式有误：{exc}") from exc


def parameters_used(node: Node) -> list[str]:
    """The parameter keys an expression reads, in order of first use."""
    keys: list[str] = []
    for item in node.walk():
        if isinstance(item, ParamRef) and item.key not in keys:
            keys.append(item.key)
    return keys
