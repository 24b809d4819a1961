"""Rule tests as data: each YAML file beside a policy holds cases and what each benefit must give.

A test names a case (the same JSON as ``bangfu policy evaluate``) and, per benefit, the expected
``status``, ``amount_fen``, ``eligible``, the facts it must report ``missing``, phrases its
``reasons`` must contain, its ``priority`` rank (``null`` for none) and ``decided_on``, the day the
document answered for (its last day, for an event of its period asked about after it ended).
Files mirror the policy's clauses, so a clause's tests are easy to find.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bangfu.policy.case import CaseError, parse_case
from bangfu.policy.engine import evaluate_case
from bangfu.policy.model import Policy

EXPECT_KEYS = {"status", "amount_fen", "eligible", "missing", "reasons_contain", "details", "priority", "decided_on"}


@dataclass(frozen=True)
class RuleTest:
    file: Path
    index: int
    name: str
    case: dict[str, Any]
    expect: dict[str, dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.file.name}#{self.index + 1} {self.name}"


@dataclass(frozen=True)
class TestOutcome:
    test: RuleTest
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def load_tests(paths: list[Path]) -> Iterator[RuleTest]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    for file in files:
        items = yaml.safe_load(file.read_text(encoding="utf-8")) or []
        if not isinstance(items, list):
            raise ValueError(f"{file}: 测试文件应为列表，每项包含 name、case、expect")
        for index, item in enumerate(items):
            if not isinstance(item, dict) or set(item) - {"name", "case", "expect"} or "case" not in item:
                raise ValueError(f"{file} 第 {index + 1} 项：应只包含 name、case、expect 三个键")
            expect = item.get("expect") or {}
            for benefit, spec in expect.items():
                unknown = set(spec) - EXPECT_KEYS
                if unknown:
                    raise ValueError(f"{file} 第 {index + 1} 项 {benefit}：未知的期望键 {', '.join(sorted(unknown))}")
            yield RuleTest(file, index, str(item.get("name", "")), _dates_to_text(item["case"]), expect)


def _dates_to_text(value: Any) -> Any:
    """YAML reads 2024-06-30 as a date; the case contract takes ISO text, as JSON would give it."""
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def run_test(policy: Policy, test: RuleTest) -> TestOutcome:
    try:
        result = evaluate_case(policy, parse_case(test.case))
    except CaseError as exc:
        return TestOutcome(test, (f"案例无效：{exc}",))
    by_id = {b["id"]: b for b in result["benefits"]}
    failures: list[str] = []
    for benefit_id, spec in test.expect.items():
        got = by_id.get(benefit_id)
        if got is None:
            failures.append(f"{benefit_id}: 结果中没有这一项（实体类型不符或政策未定义）")
            continue
        for key in ("status", "amount_fen", "eligible", "decided_on"):
            want = _dates_to_text(spec.get(key))  # a date as the answer gives it: ISO text
            if key in spec and got[key] != want:
                failures.append(f"{benefit_id}.{key}: 期望 {want!r}，实为 {got[key]!r}（理由：{got['reasons']}）")
        for item in spec.get("missing", []):
            if item not in got["missing"]:
                failures.append(f"{benefit_id}.missing: 应包含 {item!r}，实为 {got['missing']!r}")
        for phrase in spec.get("reasons_contain", []):
            if not any(phrase in reason for reason in got["reasons"]):
                failures.append(f"{benefit_id}.reasons: 应有包含 {phrase!r} 的理由，实为 {got['reasons']!r}")
        if "priority" in spec:
            rank = (got.get("priority") or {}).get("rank")
            if rank != spec["priority"]:
                failures.append(f"{benefit_id}.priority: 期望第 {spec['priority']!r} 位，实为 {rank!r}")
        for key, value in (spec.get("details") or {}).items():
            if got["details"].get(key) != value:
                failures.append(f"{benefit_id}.details.{key}: 期望 {value!r}，实为 {got['details'].get(key)!r}")
    return TestOutcome(test, tuple(failures))


def run_tests(policy: Policy, paths: list[Path] | None = None) -> list[TestOutcome]:
    return [run_test(policy, t) for t in load_tests(paths or [Path(policy.tests_dir)])]
