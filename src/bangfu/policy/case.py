"""The case contract: read one case from JSON and check every field against the fact schema.

Fields the schema does not know are ignored (the contract lets callers add fields); fields it
knows must have the right type, and an error names the field by its JSON path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bangfu.policy.facts import DATES, ENTITIES, Entity, FactType, Field

Row = dict[str, Any]


class CaseError(ValueError):
    """A malformed case; ``path`` is the JSON path of the offending field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Case:
    date: dt.date
    entity: Entity
    region: str | None
    facts: Row
    collections: dict[str, list[Row]]
    # the documents the caller pins the answer to (policy ids); None: every document in force for the place
    documents: tuple[str, ...] | None = None


def parse_case(data: Any) -> Case:
    if not isinstance(data, Mapping):
        raise CaseError("$", "案例应为 JSON 对象，包含 date 以及 person 或 organization")
    day = _convert(data.get("date"), FactType.DATE, "date", required=True)
    present = [name for name in ENTITIES if name in data]
    if len(present) != 1:
        raise CaseError("$", "案例应包含且只包含 person（个人）或 organization（单位）之一")
    entity = ENTITIES[present[0]]
    body = data[entity.name]
    if not isinstance(body, Mapping):
        raise CaseError(entity.name, "应为 JSON 对象")
    region = _convert(data.get("region"), FactType.STR, "region")
    if region is not None:
        _check_region(region, "region")
    facts: Row = {}
    for f in entity.fields.values():
        if f.path[0] == "$case":
            facts[f.name] = region
            continue
        facts[f.name] = _read_field(body, f, entity.name)
    if entity.name == "organization" and region is None:
        region = facts.get("region")
    collections: dict[str, list[Row]] = {}
    for name, collection in entity.collections.items():
        raw = body.get(name)
        where = f"{entity.name}.{name}"
        if raw is None:
            collections[name] = []
            continue
        if not isinstance(raw, list):
            raise CaseError(where, "应为数组（列表）")
        rows = []
        for index, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise CaseError(f"{where}[{index}]", "应为 JSON 对象")
            rows.append({f.name: _read_field(item, f, f"{where}[{index}]") for f in collection.fields.values()})
        collections[name] = rows
    assert isinstance(day, dt.date)
    return Case(day, entity, region if isinstance(region, str) else None, facts, collections, _documents(data))


def _documents(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    raw = data.get("documents")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or not all(isinstance(d, str) and d.strip() for d in raw):
        raise CaseError("documents", '应为政策编号的非空数组，如 ["shanxi-2021"]；不写则按地区和日期取全部有效政策')
    return tuple(d.strip() for d in raw)


def _read_field(body: Mapping[str, Any], f: Field, prefix: str) -> Any:
    value: Any = body
    for part in f.path:
        if not isinstance(value, Mapping):
            value = None
            break
        value = value.get(part)
    where = f"{prefix}.{'.'.join(f.path)}"
    converted = _convert(value, f.type, where, bounds=f.bounds)
    if f.legacy and isinstance(converted, str):
        converted = dict(f.legacy).get(converted, converted)
    if f.choices and converted is not None:
        items = converted if isinstance(converted, list) else [converted]
        bad = [v for v in items if v not in f.choices]
        if bad:
            raise CaseError(where, f"取值 {', '.join(map(str, bad))} 无效；可用的有：{', '.join(f.choices)}")
    if f.name.endswith("region") and isinstance(converted, str):
        _check_region(converted, where)
    return converted


def _check_region(code: str, where: str) -> None:
    if not (code.isdigit() and len(code) in (6, 9, 12)):
        raise CaseError(where, f"地区代码 {code!r} 应为 6 位县级行政区划代码（如 141123）")


def _convert(
    value: Any, kind: FactType, where: str, required: bool = False, bounds: tuple[int, int] | None = None
) -> Any:
    if value is None:
        if required:
            raise CaseError(where, "缺少必填字段")
        return None
    if kind is FactType.DATE:
        return _date(value, where)
    if kind is FactType.INT:
        return _integer(value, where, bounds)
    if kind is FactType.BOOL:
        if isinstance(value, bool):
            return value
        raise CaseError(where, f"{value!r} 应为 true 或 false")
    if kind is FactType.STR:
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise CaseError(where, f"{value!r} 应为非空字符串")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise CaseError(where, f'{value!r} 应为字符串数组，如 ["poverty_alleviated"]')


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            first, last = DATES
            if not first <= day <= last:
                raise CaseError(where, f"日期 {value} 超出范围，应在 {first} 至 {last} 之间")
            return day
    raise CaseError(where, f"{value!r} 不是有效日期，应为 YYYY-MM-DD（如 2024-06-30）")


def _integer(value: Any, where: str, bounds: tuple[int, int] | None) -> int:
    # JSON numbers with a fraction, an exponent (1e20), NaN or Infinity arrive as floats: never counts.
    hint = "；金额以分为单位的整数，如 950 元写 95000" if where.endswith("_fen") else ""
    if not isinstance(value, int) or isinstance(value, bool):
        raise CaseError(where, f"{value!r} 应为非负整数（不带小数点或指数）{hint}")
    if value < 0:
        raise CaseError(where, f"{value} 不能为负数")
    low, high = bounds or (0, value)
    if not low <= value <= high:
        raise CaseError(where, f"{value} 超出范围，应在 {low:,} 至 {high:,} 之间{hint}")
    return value
