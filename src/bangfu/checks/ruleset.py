"""Suspect-data rule files: YAML data, parsed and checked when loaded, never executed.

A rule file holds named aggregates (values computed once per household or per ID number) and
rules. A rule's ``condition`` is written in the policy's expression language (``policy/
expressions.py``) over one row; the row is suspect when the condition is TRUE, so an unknown
(empty) value never makes a row suspect unless the rule asks ``is None`` itself. Later files
override earlier ones rule by rule (same ``id``), which is how a province adds or switches off
rules without code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bangfu.checks.schema import GROUPINGS, aggregate_entity, rule_entity, source_column
from bangfu.policy.expressions import Aggregate, ExpressionError, FieldRef, Node, RowField, parse
from bangfu.policy.facts import FactType, Field

SEVERITIES = {"高": "high", "中": "medium", "低": "low"}
SEVERITY_LABELS = {code: label for label, code in SEVERITIES.items()}
BUNDLED = "national-persons.yaml"
# Rules comparing a download with the registry: loaded only when a file is checked with --database.
REGISTRY_RULES = "registry.yaml"
_RULE_KEYS = {"id", "description", "severity", "condition", "enabled", "note", "over"}
# What a rule runs over: the checked rows (a download's, or the registry's export), or, with
# ``bangfu check FILE --database``, the registry's persons of the file's counties (``registry_rows``).
OVER = ("rows", "registry")
_AGGREGATE_KEYS = {"label", "expr"}
_FILE_KEYS = {"ruleset", "label", "aggregates", "rules"}


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class NamedAggregate:
    name: str
    label: str
    text: str
    node: Node
    type: str
    fields: frozenset[str]  # layout fields it reads


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: str  # high | medium | low
    text: str
    node: Node
    enabled: bool
    origin: str  # the file it came from
    fields: frozenset[str]  # layout fields it reads, directly or through aggregates
    aggregates: tuple[str, ...]  # named aggregates it reads
    over: str = "rows"  # one of OVER

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]


@dataclass(frozen=True)
class RuleSet:
    aggregates: dict[str, NamedAggregate]
    rules: tuple[Rule, ...]

    def enabled(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def bundled_path(name: str = BUNDLED) -> Path:
    return Path(str(resources.files("bangfu.checks") / "rules" / name))


def load_rules(extra: Iterable[Path] = (), disabled: Iterable[str] = (), *, registry: bool = False) -> RuleSet:
    """The bundled rules (with the registry's if ``registry``), overridden by each of ``extra`` in turn,
    less the ``disabled`` ids."""
    bundled = [bundled_path(), *([bundled_path(REGISTRY_RULES)] if registry else [])]
    documents = [(path, _read(path)) for path in bundled]
    documents += [(path, _read(path)) for path in extra]
    aggregates: dict[str, NamedAggregate] = {}
    for path, data in documents:
        for name, spec in (data.get("aggregates") or {}).items():
            aggregates[name] = _aggregate(path, str(name), spec)
    rules: dict[str, Rule] = {}
    for path, data in documents:
        for index, spec in enumerate(data.get("rules") or []):
            rule = _rule(path, index, spec, aggregates)
            rules[rule.id] = rule  # a later file's rule of the same id replaces the earlier one
    for rule_id in disabled:
        if rule_id not in rules:
            raise RuleFileError(f"--disable {rule_id}：没有这条规则；现有规则：{'、'.join(rules)}")
        rules[rule_id] = replace(rules[rule_id], enabled=False)
    return RuleSet(aggregates, tuple(rules.values()))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RuleFileError(f"找不到规则文件 {path}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleFileError(f"{path}：不是 UTF-8 编码的有效 YAML（{exc}）") from exc
    if not isinstance(data, dict):
        raise RuleFileError(f"{path}：应为一个映射，含 rules（规则列表），可选 aggregates（分组汇总值）")
    unknown = set(data) - _FILE_KEYS
    if unknown:
        raise RuleFileError(
            f"{path}：未知的键 {'、'.join(sorted(map(str, unknown)))}；可用的有 {'、'.join(sorted(_FILE_KEYS))}"
        )
    return data


def _listed(keys: set[Any]) -> str:
    return "、".join(sorted(map(str, keys)))


def _fields_read(node: Node, aggregates: dict[str, NamedAggregate]) -> tuple[frozenset[str], tuple[str, ...]]:
    fields: set[str] = set()
    used: list[str] = []
    for item in node.walk():
        if isinstance(item, FieldRef) and item.name in aggregates:
            used.append(item.name)
            fields |= aggregates[item.name].fields
        elif isinstance(item, FieldRef | RowField):
            fields.add(source_column(item.name))
    return frozenset(fields), tuple(dict.fromkeys(used))


def _aggregate(path: Path, name: str, spec: Any) -> NamedAggregate:
    where = f"{path}：aggregates.{name}"
    if not isinstance(spec, dict) or not {"label", "expr"} <= set(spec) or set(spec) - _AGGREGATE_KEYS:
        raise RuleFileError(f"{where}：应写 label（中文说明）和 expr（表达式）两项")
    if not name.isidentifier():
        raise RuleFileError(f"{where}：名称只能用英文字母、数字和下划线")
    try:
        node = parse(str(spec["expr"]), aggregate_entity(), {})
    except ExpressionError as exc:
        raise RuleFileError(f"{where}：{exc}") from exc
    if not any(isinstance(item, Aggregate) for item in node.walk()):
        raise RuleFileError(f"{where}：应为对 {'、'.join(GROUPINGS)} 的汇总，如 sum(1 for m in household if ...)")
    fields, _ = _fields_read(node, {})
    return NamedAggregate(name, str(spec["label"]), str(spec["expr"]), node, node.type, fields)


def _rule(path: Path, index: int, spec: Any, aggregates: dict[str, NamedAggregate]) -> Rule:
    rule_id = spec.get("id") if isinstance(spec, dict) else None
    where = f"{path}：rules 第 {index + 1} 条" + (f"（{rule_id}）" if rule_id else "")
    if not isinstance(spec, dict):
        raise RuleFileError(f"{where}：应为一个映射（id、description、severity、condition）")
    unknown = set(spec) - _RULE_KEYS
    if unknown:
        raise RuleFileError(
            f"{where}：未知的键 {'、'.join(sorted(map(str, unknown)))}；可用的有 {'、'.join(sorted(_RULE_KEYS))}"
        )
    missing = [key for key in ("id", "description", "severity", "condition") if not spec.get(key)]
    if missing:
        raise RuleFileError(f"{where}：缺少 {'、'.join(missing)}")
    if spec["severity"] not in SEVERITIES:
        raise RuleFileError(f"{where}：severity 应为 高、中 或 低，实为 {spec['severity']!r}")
    enabled = spec.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleFileError(f"{where}：enabled 应为 true 或 false")
    fields = {name: Field(name, FactType(a.type), a.label) for name, a in aggregates.items()}
    try:
        node = parse(str(spec["condition"]), rule_entity(fields), {})
    except ExpressionError as exc:
        raise RuleFileError(f"{where}：{exc}") from exc
    if node.type != "bool":
        raise RuleFileError(f"{where}：condition 应为真假判断（结果为 True 的行即疑点），实为 {node.type}")
    read, used = _fields_read(node, aggregates)
    over = spec.get("over", "rows")
    if over not in OVER:
        raise RuleFileError(f"{where}：over 应为 rows（核查的各行，默认）或 registry（登记库中文件所在县的人员）")
    if over == "registry" and used:
        raise RuleFileError(
            f"{where}：over: registry 的规则不能读分组汇总值（{'、'.join(used)}），它们只对核查的各行计算"
        )
    return Rule(
        id=str(rule_id),
        description=str(spec["description"]),
        severity=SEVERITIES[spec["severity"]],
        text=str(spec["condition"]),
        node=node,
        enabled=enabled,
        origin=str(path),
        fields=read,
        aggregates=used,
        over=over,
    )
