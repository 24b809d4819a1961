"""Load a policy folder (policy.yaml, parameters/*.yaml, benefits/*.yaml) and check it strictly.

Every error names the file and the key, says what is wrong and how to fix it, because the people
who edit these files are policy officers as often as programmers.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bangfu.policy.expressions import ExpressionError, Node, parameters_used, parse
from bangfu.policy.facts import ENTITIES, KIND_LABELS, ORGANIZATION_KINDS
from bangfu.policy.model import (
    FUNDS,
    LEVEL_CODE_LENGTHS,
    LEVELS,
    LIMIT_SCOPES,
    Benefit,
    Condition,
    CrossExclusion,
    Detail,
    Event,
    ExclusionGroup,
    Policy,
    PriorityRank,
    higher_ranked,
)
from bangfu.policy.parameters import UNITS, Citation, DatedValue, Parameter, ValueRange, format_value
from bangfu.policy.repeat import REPEAT_KINDS, Repeat, unpaid_units

DEFAULT_POLICY = "shanxi-2021"


class PolicyError(ValueError):
    """A policy file that cannot be used; the message says where and how to fix it."""


def policies_root() -> Path:
    return Path(str(resources.files("bangfu") / "policies"))


def available_policies() -> list[str]:
    return sorted(p.name for p in policies_root().iterdir() if (p / "policy.yaml").is_file())


@cache
def load_bundled(policy_id: str = DEFAULT_POLICY) -> Policy:
    if policy_id not in available_policies():
        raise PolicyError(f"没有名为 {policy_id} 的政策；可用的有：{', '.join(available_policies())}")
    return load_policy(policies_root() / policy_id)


class _PolicyYamlLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so a bad date is reported with its file and key."""


_PolicyYamlLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_PolicyYamlLoader)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: YAML 格式错误：{exc}") from exc


def check_keys(data: Any, where: str, required: set[str], optional: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where}: 应为键值对（mapping），实为 {type(data).__name__}")
    unknown = set(data) - required - optional
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise PolicyError(f"{where}: 未知的键 {', '.join(sorted(map(str, unknown)))}；允许的键：{allowed}")
    absent = required - set(data)
    if absent:
        raise PolicyError(f"{where}: 缺少必填键 {', '.join(sorted(absent))}")
    return data


def parse_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise PolicyError(f"{where}: 日期 {value!r} 格式不正确，应为 YYYY-MM-DD") from exc


def _citation(data: Any, where: str, document: str) -> Citation:
    ref = check_keys(data, where, {"clause", "quote"}, {"document"})
    if not str(ref["quote"]).strip() or not str(ref["clause"]).strip():
        raise PolicyError(f"{where}: 出处的条款（clause）和原文（quote）不能为空")
    return Citation(str(ref.get("document", document)), str(ref["clause"]), str(ref["quote"]).strip())


def load_policy(folder: Path) -> Policy:
    meta_path = folder / "policy.yaml"
    if not meta_path.is_file():
        raise PolicyError(f"{folder}: 找不到 policy.yaml")
    meta = check_keys(
        _read_yaml(meta_path),
        str(meta_path),
        {"id", "title", "issuer", "valid", "reference"},
        {"key_counties", "note", "level", "region", "placeholder", "source", "replaces"},
    )
    level, region = _level_and_region(meta, str(meta_path))
    placeholder = str(meta.get("placeholder") or "").strip()
    valid = check_keys(meta["valid"], f"{meta_path}: valid", {"from"}, {"to", "note"})
    policy_id = str(meta["id"])
    replaces = str(meta.get("replaces") or "").strip()
    if replaces == policy_id:
        raise PolicyError(f"{meta_path}: replaces: 不能替代自身（{policy_id}）；请写被替代的旧版本的编号")
    citation = _citation(meta["reference"], f"{meta_path}: reference", policy_id)
    key_counties = check_keys(
        meta.get("key_counties", {"codes": []}), f"{meta_path}: key_counties", {"codes"}, {"note"}
    )

    parameters: dict[str, Parameter] = {}
    for path in sorted((folder / "parameters").glob("*.yaml")):
        for key, data in (_read_yaml(path) or {}).items():
            if key in parameters:
                raise PolicyError(f"{path}: 参数 {key} 重复定义")
            parameters[key] = _parameter(str(key), data, f"{path}: {key}", policy_id, bool(placeholder))

    param_types = {k: p.type for k, p in parameters.items()}
    benefits: dict[str, Benefit] = {}
    exclusions: list[ExclusionGroup] = []
    cross_exclusions: list[CrossExclusion] = []
    where_defined: dict[str, str] = {}  # exclusion group id -> file and index, for error messages
    for path in sorted((folder / "benefits").glob("*.yaml")):
        doc = check_keys(_read_yaml(path) or {}, str(path), set(), {"benefits", "exclusions", "cross_exclusions"})
        for bid, data in (doc.get("benefits") or {}).items():
            if bid in benefits:
                raise PolicyError(f"{path}: 政策项目 {bid} 重复定义")
            benefits[bid] = _benefit(str(bid), data, f"{path}: {bid}", param_types)
        for index, data in enumerate(doc.get("exclusions") or []):
            where = f"{path}: exclusions[{index}]"
            exclusions.append(_exclusion(data, where, policy_id))
            where_defined[exclusions[-1].id] = where
        for index, data in enumerate(doc.get("cross_exclusions") or []):
            cross_exclusions.append(_cross_exclusion(data, f"{path}: cross_exclusions[{index}]", policy_id))
    if not benefits:
        raise PolicyError(f"{folder}/benefits: 没有定义任何政策项目")
    _check_exclusions(exclusions, benefits, where_defined)
    _check_parameters_read(parameters, benefits, folder)
    _check_own_members(cross_exclusions, policy_id, benefits)
    return Policy(
        id=policy_id,
        title=str(meta["title"]),
        issuer=str(meta["issuer"]),
        valid_from=parse_date(valid["from"], f"{meta_path}: valid.from"),
        valid_to=parse_date(valid["to"], f"{meta_path}: valid.to") if valid.get("to") else None,
        validity_note=str(valid.get("note", "")),
        citation=citation,
        parameters=parameters,
        benefits=benefits,
        exclusions=tuple(exclusions),
        key_counties=frozenset(str(c) for c in key_counties["codes"]),
        key_counties_note=str(key_counties.get("note", "")),
        source_dir=str(folder),
        tests_dir=str(folder / "tests"),
        evaluation_order=_evaluation_order(benefits, exclusions, where_defined),
        level=level,
        region=region,
        placeholder=placeholder,
        cross_exclusions=tuple(cross_exclusions),
        source_note=str(meta.get("source") or "").strip(),
        replaces=replaces,
    )


def _level_and_region(meta: Mapping[str, Any], where: str) -> tuple[str, str]:
    """``level`` (province, city, county) and the ``region`` code it covers; province-wide Shanxi by default."""
    level = str(meta.get("level", "province"))
    if level not in LEVELS:
        raise PolicyError(f"{where}: level: 应为 {'、'.join(LEVELS)} 之一（省级、市级、县级），实为 {level!r}")
    region = str(meta.get("region", "14"))
    length = LEVEL_CODE_LENGTHS[level]
    code = region[:length]
    if not (region.isdigit() and len(region) in (2, 4, 6) and region.startswith("14")):
        raise PolicyError(f"{where}: region: 地区代码 {region!r} 应为山西省的行政区划代码（如 14、1408、140821）")
    if len(region.rstrip("0")) > length or len(code) < length:
        raise PolicyError(
            f"{where}: region: {LEVELS[level]}文件的地区代码应为 {length} 位（或补零的 6 位），实为 {region}"
        )
    return level, code


def _check_parameters_read(parameters: dict[str, Parameter], benefits: dict[str, Benefit], folder: Path) -> None:
    """A parameter no rule reads would show as a standard that matters while it changes nothing."""
    read: set[str] = set()
    for benefit in benefits.values():
        nodes = [c.expr for c in benefit.conditions] + [benefit.amount] + [d.expr for d in benefit.details]
        nodes += [p.expr for p in benefit.priority]
        if benefit.repeat is not None and benefit.repeat.due is not None:
            nodes.append(benefit.repeat.due)
        read.update(key for node in nodes for key in parameters_used(node))
    for key, parameter in parameters.items():
        if parameter.informational and key in read:
            raise PolicyError(f"{folder}/parameters: {key}: 规则读取了该参数，请去掉 informational: true")
        if not parameter.informational and key not in read:
            raise PolicyError(
                f"{folder}/parameters: {key}: 没有任何规则读取该参数；请在规则中使用它，"
                "或写 informational: true 并在 note 中说明（如“按其他规定执行，本系统不计算”）"
            )


def _dated_values(items: Any, where: str, unit: str, default: Citation, policy_id: str) -> tuple[DatedValue, ...]:
    if not isinstance(items, list):
        raise PolicyError(f"{where}: 应为列表，每项形如 {{from: 2021-07-01, value: 80000}}")
    values: list[DatedValue] = []
    for index, raw in enumerate(items):
        here = f"{where}[{index}]"
        item = check_keys(raw, here, {"from", "value"}, {"to", "reference", "note"})
        start = parse_date(item["from"], f"{here}.from")
        end = parse_date(item["to"], f"{here}.to") if item.get("to") is not None else None
        if end is not None and end < start:
            raise PolicyError(f"{here}: 结束日期 {end} 早于开始日期 {start}")
        value = typed_value(item["value"], unit, f"{here}.value")
        citation = _citation(item["reference"], f"{here}.reference", policy_id) if "reference" in item else default
        values.append(DatedValue(start, end, value, citation, str(item.get("note", ""))))
    values.sort(key=lambda v: v.start)
    for before, after in itertools.pairwise(values):
        if before.overlaps(after):
            raise PolicyError(
                f"{where}: 日期区间重叠（{before.start}—{before.end or '长期'} 与 {after.start}—"
                f"{after.end or '长期'}），请给前一项加上 to: 结束日期"
            )
    return tuple(values)


def typed_value(value: Any, unit: str, where: str) -> object | None:
    if value is None:
        return None
    expected = UNITS[unit]
    if expected == "int" and isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise PolicyError(f"{where}: 数值不能为负")
        return value
    if expected == "date":
        return parse_date(value, where)
    if expected == "bool" and isinstance(value, bool):
        return value
    hint = "（金额以分为单位的整数，如 800 元写 80000）" if unit == "fen" else ""
    raise PolicyError(f"{where}: 值 {value!r} 不是 {unit} 单位要求的类型{hint}")


def _parameter(key: str, data: Any, where: str, policy_id: str, document_placeholder: bool = False) -> Parameter:
    spec = check_keys(
        data,
        where,
        {"label", "unit", "reference", "values"},
        {"set_by", "regions", "note", "informational", "placeholder", "range", "county_may_override"},
    )
    unit = str(spec["unit"])
    if unit not in UNITS:
        raise PolicyError(f"{where}.unit: 未知单位 {unit}；可用的有：{', '.join(UNITS)}")
    set_by = spec.get("set_by")
    if set_by not in (None, "city", "county"):
        raise PolicyError(f"{where}.set_by: 应为 city 或 county")
    citation = _citation(spec["reference"], f"{where}.reference", policy_id)
    values = _dated_values(spec["values"], f"{where}.values", unit, citation, policy_id)
    overrides: dict[str, tuple[DatedValue, ...]] = {}
    for region, items in (spec.get("regions") or {}).items():
        code = str(region)
        if not (code.isdigit() and len(code) in (4, 6) and code.startswith("14")):
            raise PolicyError(f"{where}.regions: 地区代码 {code} 应为山西省的 4 位市代码或 6 位县代码")
        overrides[code] = _dated_values(items, f"{where}.regions.{code}", unit, citation, policy_id)
    informational = spec.get("informational", False)
    if not isinstance(informational, bool):
        raise PolicyError(f"{where}.informational: 应为 true 或 false")
    if informational and not str(spec.get("note", "")).strip():
        raise PolicyError(f"{where}.note: 不由规则计算的参数（informational: true）须在 note 中说明原因")
    placeholder = spec.get("placeholder", document_placeholder)
    if not isinstance(placeholder, bool):
        raise PolicyError(f"{where}.placeholder: 应为 true 或 false")
    county_may_override = spec.get("county_may_override", False)
    if not isinstance(county_may_override, bool):
        raise PolicyError(f"{where}.county_may_override: 应为 true 或 false")
    if county_may_override and set_by != "city":
        raise PolicyError(f"{where}.county_may_override: 只有市级制定的标准（set_by: city）才能允许县级另行设置")
    value_range = _range(spec.get("range"), f"{where}.range", unit)
    if value_range is not None:
        _check_in_range(values, overrides, value_range, where, unit)
    return Parameter(
        key,
        str(spec["label"]),
        unit,
        citation,
        values,
        overrides,
        set_by,
        str(spec.get("note", "")),
        informational,
        placeholder,
        value_range,
        county_may_override,
    )


def _range(data: Any, where: str, unit: str) -> ValueRange | None:
    """``range: {min, max, reason}``: the values a standard may plausibly take, in the parameter's unit."""
    if data is None:
        return None
    spec = check_keys(data, where, {"min", "max", "reason"}, set())
    if UNITS[unit] != "int":
        raise PolicyError(f"{where}: 只有整数单位（金额、天数、人数等）的参数可以声明取值范围")
    low, high = (typed_value(spec[end], unit, f"{where}.{end}") for end in ("min", "max"))
    if not isinstance(low, int) or not isinstance(high, int) or low > high:
        raise PolicyError(f"{where}: min 与 max 须为整数且 min 不大于 max")
    if not str(spec["reason"]).strip():
        raise PolicyError(f"{where}.reason: 须说明取值范围的理由")
    return ValueRange(low, high, str(spec["reason"]).strip())


def _check_in_range(
    values: tuple[DatedValue, ...],
    overrides: dict[str, tuple[DatedValue, ...]],
    value_range: ValueRange,
    where: str,
    unit: str,
) -> None:
    for region, items in [("", values), *overrides.items()]:
        for item in items:
            if isinstance(item.value, int) and not value_range.holds(item.value):
                shown = f"regions.{region}" if region else "values"
                raise PolicyError(
                    f"{where}.{shown}: 值 {format_value(item.value, unit)}超出声明的取值范围 "
                    f"{format_value(value_range.low, unit)}—{format_value(value_range.high, unit)}"
                )


def _expr(
    text: Any,
    where: str,
    entity_name: str,
    param_types: dict[str, str],
    *types: str,
    names: dict[str, Node] | None = None,
) -> Node:
    if not isinstance(text, str | int) or isinstance(text, bool):
        raise PolicyError(f"{where}: 应为表达式字符串")
    try:
        node = parse(str(text), ENTITIES[entity_name], param_types, names)
    except ExpressionError as exc:
        raise PolicyError(f"{where}: {exc}") from exc
    if types and node.type not in types:
        raise PolicyError(f"{where}: 表达式结果应为 {'/'.join(types)}，实为 {node.type}")
    return node


def _benefit(bid: str, data: Any, where: str, param_types: dict[str, str]) -> Benefit:
    spec = check_keys(
        data,
        where,
        {"label", "entity", "clause", "fund", "conditions", "amount"},
        {"amount_label", "limit", "repeat", "priority", "details", "kinds", "note", "event"},
    )
    entity = str(spec["entity"])
    if entity not in ENTITIES:
        raise PolicyError(f"{where}.entity: 应为 {' 或 '.join(ENTITIES)}")
    if spec["fund"] not in FUNDS:
        raise PolicyError(f"{where}.fund: 未知资金来源 {spec['fund']}；可用的有：{', '.join(FUNDS)}")
    limit = spec.get("limit")
    if limit is not None and limit not in LIMIT_SCOPES:
        raise PolicyError(f"{where}.limit: 应为 {' 或 '.join(LIMIT_SCOPES)}")
    repeat = _repeat(bid, spec, where, entity, param_types)
    if repeat is not None:
        limit = repeat.kind.limit
    kinds = tuple(str(k) for k in spec.get("kinds") or ())
    if kinds and (entity != "organization" or set(kinds) - set(ORGANIZATION_KINDS)):
        raise PolicyError(f"{where}.kinds: 只能用于单位，取值为 {', '.join(ORGANIZATION_KINDS)}")
    conditions = []
    raw_conditions = spec["conditions"]
    if not isinstance(raw_conditions, list) or not raw_conditions:
        raise PolicyError(f"{where}.conditions: 至少需要一个条件")
    if kinds:
        kind_list = ", ".join(repr(k) for k in kinds)
        conditions.append(
            Condition(
                "kind",
                "单位类型为" + "、".join(KIND_LABELS[k] for k in kinds),
                parse(f"kind in ({kind_list},)", ENTITIES[entity], param_types),
                f"kind in ({kind_list},)",
            )
        )
    seen: set[str] = set()
    for index, raw in enumerate(raw_conditions):
        here = f"{where}.conditions[{index}]"
        cond = check_keys(raw, here, {"id", "label", "when"}, {"citizen"})
        if cond["id"] in seen:
            raise PolicyError(f"{here}.id: 条件编号 {cond['id']} 重复")
        seen.add(cond["id"])
        node = _expr(cond["when"], f"{here}.when", entity, param_types, "bool", names=_due_names(repeat))
        citizen = str(cond.get("citizen") or "").strip()
        if citizen and not citizen.startswith("需要"):
            raise PolicyError(f"{here}.citizen: 应以“需要”开头，说明申请人还需要满足什么，如“需要有劳动能力”")
        conditions.append(Condition(str(cond["id"]), str(cond["label"]), node, str(cond["when"]), citizen))
    details = []
    for index, raw in enumerate(spec.get("details") or []):
        here = f"{where}.details[{index}]"
        item = check_keys(raw, here, {"id", "label", "value"}, set())
        details.append(
            Detail(
                str(item["id"]),
                str(item["label"]),
                _expr(item["value"], f"{here}.value", entity, param_types),
                str(item["value"]),
            )
        )
    names = _due_names(repeat)
    if repeat is not None and repeat.unpaid is not None:
        names["unpaid_units"] = repeat.unpaid
    amount = _expr(spec["amount"], f"{where}.amount", entity, param_types, "int", names=names)
    if repeat is not None and repeat.kind.per_unit and "unpaid_units" not in str(spec["amount"]):
        raise PolicyError(
            f"{where}.amount: 按{repeat.kind.label}计发的项目，金额应按未发放的数量 unpaid_units 计算，"
            "否则已发放的部分会被重复发放"
        )
    return Benefit(
        id=bid,
        label=str(spec["label"]),
        entity=ENTITIES[entity],
        clause=str(spec["clause"]),
        fund=str(spec["fund"]),
        conditions=tuple(conditions),
        amount=amount,
        amount_text=str(spec["amount"]),
        amount_label=str(spec.get("amount_label", "")),
        limit=limit,
        details=tuple(details),
        applies_to_kinds=kinds,
        note=str(spec.get("note", "")),
        repeat=repeat,
        priority=_priority(spec.get("priority"), f"{where}.priority", entity, param_types),
        event=_event(spec.get("event"), f"{where}.event", entity, param_types),
    )


def _event(raw: Any, where: str, entity: str, param_types: dict[str, str]) -> Event | None:
    """``event: {label, date}``: what the benefit pays for and when it happened (model.Event)."""
    if raw is None:
        return None
    spec = check_keys(raw, where, {"label", "date"}, set())
    node = _expr(spec["date"], f"{where}.date", entity, param_types, "date")
    return Event(str(spec["label"]), node, str(spec["date"]))


def _cross_exclusion(data: Any, where: str, policy_id: str) -> CrossExclusion:
    """``cross_exclusions``: members ``document:benefit`` (own benefits may omit the document), first wins."""
    spec = check_keys(data, where, {"id", "members", "scope", "reference", "reason"}, set())
    if spec["scope"] not in LIMIT_SCOPES:
        raise PolicyError(f"{where}.scope: 应为 {' 或 '.join(LIMIT_SCOPES)}")
    raw = spec["members"]
    if not isinstance(raw, list) or len(raw) < 2:
        raise PolicyError(f"{where}.members: 至少需要两个成员，形如 政策编号:项目编号，按优先顺序排列")
    members = []
    for item in raw:
        document, _, benefit = str(item).rpartition(":")
        members.append((document or policy_id, benefit))
    if len(set(members)) != len(members):
        raise PolicyError(f"{where}.members: 成员重复")
    citation = _citation(spec["reference"], f"{where}.reference", policy_id)
    return CrossExclusion(str(spec["id"]), tuple(members), str(spec["scope"]), citation, str(spec["reason"]), where)


def _check_own_members(groups: list[CrossExclusion], policy_id: str, benefits: dict[str, Benefit]) -> None:
    for group in groups:
        unknown = [b for d, b in group.members if d == policy_id and b not in benefits]
        if unknown:
            raise PolicyError(
                f"{group.where}.members: 本政策没有项目 {', '.join(unknown)}；可用的有：{', '.join(benefits)}"
            )


def _due_names(repeat: Repeat | None) -> dict[str, Node]:
    """``due_units``: the units due up to the date, for conditions and amounts of a per-unit benefit."""
    return {"due_units": repeat.due} if repeat is not None and repeat.due is not None else {}


def _repeat(bid: str, spec: Mapping[str, Any], where: str, entity: str, param_types: dict[str, str]) -> Repeat | None:
    """``repeat: {per: …, due: …}``: per what the benefit may be paid again (policy/repeat.py)."""
    raw = spec.get("repeat")
    if raw is None:
        return None
    here = f"{where}.repeat"
    item = check_keys(raw, here, {"per"}, {"due", "note"})
    per = str(item["per"])
    kind = REPEAT_KINDS.get(per)
    if kind is None:
        raise PolicyError(f"{here}.per: 未知的计发依据 {per}；可用的有：{', '.join(REPEAT_KINDS)}")
    if "limit" in spec:
        raise PolicyError(f"{where}: limit 与 repeat 只能写一个（repeat.per 已决定限享次数）")
    if kind.entity is not None and kind.entity != entity:
        raise PolicyError(f"{here}.per: {per}（{kind.label}）不适用于{ENTITIES[entity].label}")
    if (per == "not_paid") != (spec["fund"] == "none"):
        raise PolicyError(f"{here}.per: 不涉及资金（fund: none）的项目写 not_paid，发放资金的项目不能写 not_paid")
    if not kind.per_unit:
        if "due" in item:
            raise PolicyError(f"{here}.due: 只有按单位计发的项目（培训日、学员月、吸纳人数等）需要 due")
        return Repeat(per)
    if "due" not in item:
        raise PolicyError(f"{here}.due: 按{kind.label}计发，须写出截至评估日应发的数量（{kind.unit_label}）")
    due = _expr(item["due"], f"{here}.due", entity, param_types, "int")
    return Repeat(per, due, str(item["due"]), unpaid_units(bid, due))


def _priority(raw: Any, where: str, entity: str, param_types: dict[str, str]) -> tuple[PriorityRank, ...]:
    """``priority: [{rank, label, when}, …]``: the order among the eligible, first match wins."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise PolicyError(f"{where}: 应为列表，每项形如 {{rank: 1, label: …, when: 表达式}}")
    ranks: list[PriorityRank] = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        spec = check_keys(item, here, {"rank", "label", "when"}, set())
        rank = spec["rank"]
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise PolicyError(f"{here}.rank: 应为正整数（1 为最优先）")
        if ranks and rank <= ranks[-1].rank:
            raise PolicyError(f"{here}.rank: 应按 1、2、3……从高到低排列")
        node = _expr(spec["when"], f"{here}.when", entity, param_types, "bool")
        ranks.append(PriorityRank(rank, str(spec["label"]), node, str(spec["when"])))
    return tuple(ranks)


def _exclusion(data: Any, where: str, policy_id: str) -> ExclusionGroup:
    spec = check_keys(data, where, {"id", "kind", "members", "scope", "reference", "reason"}, {"precedence"})
    if spec["kind"] not in ("one_of", "supersedes"):
        raise PolicyError(f"{where}.kind: 应为 one_of（只能享受其一）或 supersedes（前者排除后者）")
    if spec["scope"] not in LIMIT_SCOPES:
        raise PolicyError(f"{where}.scope: 应为 {' 或 '.join(LIMIT_SCOPES)}")
    members = tuple(str(m) for m in spec["members"])
    precedence = tuple(str(m) for m in spec.get("precedence") or ())
    if precedence and sorted(precedence) != sorted(members):
        raise PolicyError(f"{where}.precedence: 应列出全部成员且只列成员，按优先顺序")
    return ExclusionGroup(
        str(spec["id"]),
        str(spec["kind"]),
        members,
        precedence,
        str(spec["scope"]),
        _citation(spec["reference"], f"{where}.reference", policy_id),
        str(spec["reason"]),
    )


def _check_exclusions(groups: list[ExclusionGroup], benefits: dict[str, Benefit], where: dict[str, str]) -> None:
    for group in groups:
        here = f"{where[group.id]} (id: {group.id})"
        unknown = [m for m in group.members if m not in benefits]
        if unknown:
            raise PolicyError(f"{here}.members: 未定义的政策项目 {', '.join(unknown)}；可用的有：{', '.join(benefits)}")
        if len(group.members) < 2:
            raise PolicyError(f"{here}.members: 互斥组至少需要两个成员")
        if len({benefits[m].entity.name for m in group.members}) != 1:
            raise PolicyError(f"{here}.members: 成员必须属于同一类对象（个人或单位）")


def _evaluation_order(
    benefits: dict[str, Benefit], groups: list[ExclusionGroup], where: dict[str, str]
) -> tuple[str, ...]:
    """Benefits ordered so that every higher-ranked rival is decided first; a cycle is an error."""
    before: dict[str, dict[str, str]] = {b: {} for b in benefits}  # benefit -> {rival: group id}
    for group in groups:
        for member in group.members:
            before[member].update({rival: group.id for rival in higher_ranked(group, member)})
    order: list[str] = []
    path: list[str] = []

    def visit(bid: str) -> None:
        if bid in order:
            return
        if bid in path:
            cycle = [*path[path.index(bid) :], bid]
            group_ids = sorted({before[b][a] for a, b in itertools.pairwise(cycle)})
            places = "；".join(f"{where[g]} (id: {g})" for g in group_ids)
            raise PolicyError(
                f"{places}: 优先顺序（precedence）形成循环 {' → '.join(cycle)}，请让这些互斥组的优先顺序一致"
            )
        path.append(bid)
        for other in sorted(before[bid]):
            visit(other)
        path.pop()
        order.append(bid)

    for bid in benefits:
        visit(bid)
    return tuple(order)
