"""The checks a programme package must pass before it may be used: load, rule tests, and the set with it.

One function for the activation page and ``bangfu policy check``, so that what the page lets a
province administrator switch on is exactly what the command accepts (ADR 0023).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bangfu.policy.loader import PolicyError, load_policy
from bangfu.policy.model import LEVELS, Policy
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.testing import run_tests

# Enough to see what is wrong; a package broken everywhere would otherwise fill the page.
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class PackageReport:
    """What the checks found: the document's summary when it loaded, and every problem (Chinese)."""

    folder: Path
    problems: tuple[str, ...] = ()
    document_id: str | None = None
    title: str = ""
    level: str = ""
    region: str | None = None
    valid_from: str = ""
    valid_to: str = ""
    placeholder: bool = False
    tests_passed: int = 0
    tests_failed: int = 0
    # the package loaded and fits the set: what is wrong, if anything, is its rule tests (or their absence)
    well_formed: bool = False
    document: Policy | None = None  # the loaded document, as checked within the set

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.level, "")


def check_package(policies: PolicySet, folder: Path, *, in_place: bool = False) -> PackageReport:
    """Load ``folder``, run its rule tests, and build ``policies`` with it; every failure is a problem.

    ``in_place``: the folder may replace the set's document of the same id (an edited copy of a bundled
    document, checked by ``bangfu policy check``); the activation page adds new documents only.
    """
    try:
        document = load_policy(folder)
    except (PolicyError, OSError, yaml.YAMLError) as exc:
        return PackageReport(folder, (f"无法加载：{exc}",))
    problems: list[str] = []
    passed = failed = 0
    well_formed = True
    try:
        document = policies.with_added(folder, in_place=in_place).document(document.id)
    except PolicyError as exc:
        problems.append(f"与已启用的政策一起检查未通过：{exc}")
        well_formed = False
    try:
        outcomes = run_tests(document)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        problems.append(f"规则测试无法读取：{exc}")
        outcomes = []
    for outcome in outcomes:
        if outcome.passed:
            passed += 1
        else:
            failed += 1
            problems.append(f"规则测试失败 {outcome.test.id}：{'；'.join(outcome.failures)}")
    if not outcomes and well_formed:
        problems.append(f"{folder}/tests: 没有规则测试：每个政策包须附带至少一项规则测试")
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"另有 {len(problems) - MAX_PROBLEMS} 处问题未列出"]
    return PackageReport(
        folder,
        tuple(problems),
        document_id=document.id,
        title=document.title,
        level=document.level,
        region=document.region,
        valid_from=document.valid_from.isoformat(),
        valid_to=document.valid_to.isoformat() if document.valid_to else "",
        placeholder=bool(document.placeholder),
        tests_passed=passed,
        tests_failed=failed,
        well_formed=well_formed,
        document=document,
    )
