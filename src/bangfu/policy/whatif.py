"""What-if: re-run a population with parameter overrides given as data and report the difference.

An override file (YAML or JSON) is a list of
``{parameter: KEY, from: DATE, to: DATE?, value: V, region: CODE?, note: TEXT?}``;
e.g. raising the cross-province cap to 1,000 yuan from 2024-01-01 is
``[{parameter: transport_cross_province.cap_fen, from: 2024-01-01, value: 100000}]``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from bangfu.policy.loader import PolicyError, check_keys, parse_date, typed_value
from bangfu.policy.model import Policy
from bangfu.policy.parameters import Citation, DatedValue

WHAT_IF_DOCUMENT = "what-if"


def load_overrides(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{path}: 无法读取假设文件：{exc}") from exc
    if isinstance(data, dict) and "overrides" in data:
        data = data["overrides"]
    if not isinstance(data, list) or not data:
        raise PolicyError(f"{path}: 应为非空列表，每项形如 {{parameter: 键, from: 日期, value: 值}}")
    return data


def apply_overrides(policy: Policy, overrides: list[dict[str, Any]], source: str = "假设") -> Policy:
    """A copy of ``policy`` with each override spliced into its parameter's dated values."""
    parameters = dict(policy.parameters)
    for index, raw in enumerate(overrides):
        where = f"{source}[{index}]"
        item = check_keys(raw, where, {"parameter", "from", "value"}, {"to", "region", "note"})
        key = str(item["parameter"])
        if key not in parameters:
            raise PolicyError(f"{where}.parameter: 政策 {policy.id} 没有参数 {key}；可用 bangfu policy list 查看")
        parameter = parameters[key]
        start = parse_date(item["from"], f"{where}.from")
        end = parse_date(item["to"], f"{where}.to") if item.get("to") is not None else None
        if end is not None and end < start:
            raise PolicyError(f"{where}: 结束日期早于开始日期")
        region = str(item["region"]) if item.get("region") is not None else None
        if region is not None and not (region.isdigit() and len(region) in (2, 4, 6)):
            raise PolicyError(f"{where}.region: 地区代码应为 2、4 或 6 位数字")
        value = typed_value(item["value"], parameter.unit, f"{where}.value")
        note = str(item.get("note", "政策测算假设"))
        citation = Citation(WHAT_IF_DOCUMENT, "假设", note)
        parameters[key] = parameter.with_override(DatedValue(start, end, value, citation, note), region)
    return dataclasses.replace(policy, parameters=parameters)


def cost_difference(baseline: dict[str, int], scenario: dict[str, int]) -> list[dict[str, Any]]:
    keys = sorted(set(baseline) | set(scenario))
    return [
        {
            "key": k,
            "baseline_fen": baseline.get(k, 0),
            "scenario_fen": scenario.get(k, 0),
            "difference_fen": scenario.get(k, 0) - baseline.get(k, 0),
        }
        for k in keys
    ]
