"""``bangfu policy list | test | check``: the policy documents as files — what they hold, whether their
rule tests pass, and whether a new programme package is fit to add (files only, nothing activated)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from bangfu.cli import render
from bangfu.cli.errors import fail
from bangfu.cli.policy_options import PolicyOption, policy_set
from bangfu.policy.catalog import describe_policy
from bangfu.policy.model import LEVELS, Policy
from bangfu.policy.package_check import check_package
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.testing import TestOutcome, run_tests

TESTS_FAILED = 1


def policy_list(
    policy: PolicyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出政策文件（层级、地区、执行期、暂定说明）及各自的条款、政策项目与参数；--policy 只列一个。"""
    documents = policy_set(policy).documents
    infos = [describe_policy(d) for d in documents]
    if as_json:
        # one document named: its description as before; all of them: {"documents": [...]}
        payload = infos[0] if policy is not None else {"documents": infos}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    out = render.console()
    if policy is None:
        out.print(render.documents_table(infos))
    for document, info in zip(documents, infos, strict=True):
        out.print(f"[bold]{escape(document.title)}[/bold]（{document.id}）", highlight=False)
        out.print(f"执行期：{document.validity_text()}。{document.validity_note}", markup=False, highlight=False)
        if document.placeholder:
            out.print(f"暂定：{document.placeholder}", markup=False, highlight=False)
        out.print(render.catalog_benefits(info))
        out.print(render.catalog_parameters(info))


def policy_test(
    paths: Annotated[list[Path] | None, typer.Argument(help="测试文件或目录；默认为政策自带的测试")] = None,
    policy: PolicyOption = None,
) -> None:
    """运行政策规则测试（数据形式的测试），打印通过与失败数；默认运行全部内置政策各自的测试。"""
    targets: list[tuple[Policy, list[Path] | None]]
    if paths:
        # test files name benefits of one document: --policy's, else the default
        targets = [(policy_set(policy).default, paths)]
    else:
        targets = [(document, None) for document in policy_set(policy).documents]
    out = render.console()
    failed = total = untested = 0
    for document, files in targets:
        outcomes = _run(document, files)
        _print_failures(outcomes)
        bad = sum(1 for o in outcomes if not o.passed)
        failed, total, untested = failed + bad, total + len(outcomes), untested + (not outcomes)
        if len(targets) > 1:
            summary = f"{len(outcomes) - bad} 项通过，{bad} 项失败" if outcomes else "没有规则测试"
            out.print(f"{document.id}：{summary}", markup=False, highlight=False)
    out.print(f"规则测试：{total - failed} 项通过，{failed} 项失败", highlight=False)
    if failed or untested:
        raise typer.Exit(TESTS_FAILED)


def policy_check(
    folder: Annotated[Path, typer.Argument(help="政策包目录（policy.yaml、parameters/、benefits/、tests/）")],
) -> None:
    """检查一个政策包（只看文件，不启用）：能否加载、规则测试是否通过、与全部内置政策放在一起是否一致。"""
    if not (folder / "policy.yaml").is_file():
        fail(f"{folder}: 找不到 policy.yaml；政策包目录应包含 policy.yaml、parameters/、benefits/、tests/")
    bundled = PolicySet.bundled()
    # the same checks as the activation page (policy/package_check.py), against every bundled document
    report = check_package(bundled, folder, in_place=True)
    if report.document is None or not report.well_formed:
        fail("政策包检查未通过：" + "；".join(report.problems))
    if not report.passed:
        fail(
            "政策包检查未通过（每个政策包须附带规则测试 tests/*.yaml，每项金额和边界各一例；"
            f"规则测试 {report.tests_passed} 项通过，{report.tests_failed} 项失败）：\n" + "\n".join(report.problems),
            TESTS_FAILED,
        )
    combined = bundled.with_added(folder, in_place=True)
    replacing = any(d.id == report.document.id for d in bundled.documents)
    _print_summary(report.document, combined, report.tests_passed, replacing)


def _run(document: Policy, files: list[Path] | None) -> list[TestOutcome]:
    try:
        return run_tests(document, files)
    except (OSError, ValueError) as exc:
        fail(str(exc))


def _print_failures(outcomes: list[TestOutcome]) -> None:
    out = render.console()
    for outcome in outcomes:
        if outcome.passed:
            continue
        out.print(f"失败 {outcome.test.id}", style="red", markup=False, highlight=False)
        for failure in outcome.failures:
            out.print(f"    {failure}", markup=False, highlight=False)


def _print_summary(document: Policy, combined: PolicySet, passed: int, replacing: bool) -> None:
    others = [d.id for d in combined.documents if d.id != document.id]
    lines = [
        f"政策包检查通过：{document.id}《{document.title}》",
        f"  层级：{LEVELS[document.level]}；地区：{render.region_label(document.region)}",
        f"  执行期：{document.validity_text()}",
        *([f"  暂定：{document.placeholder}"] if document.placeholder else []),
        *([f"  替代：{document.replaces}（执行期不重叠）"] if document.replaces else []),
        f"  政策项目：{len(document.benefits)} 项（{'、'.join(b.label for b in document.benefits.values())}）",
        *(f"  跨文件排除：{g.id}（{'、'.join(f'{d}:{b}' for d, b in g.members)}）" for g in document.cross_exclusions),
        f"  规则测试：{passed} 项通过",
        f"  与内置政策一并检查：{'、'.join(others) or '无'}"
        + (f"（替换内置的同编号政策 {document.id}）" if replacing else ""),
    ]
    render.console().print("\n".join(lines), markup=False, highlight=False)


def register(policy_app: typer.Typer) -> None:
    policy_app.command("list")(policy_list)
    policy_app.command("test")(policy_test)
    policy_app.command("check")(policy_check)
