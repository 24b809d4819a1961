"""``bangfu check FILE``: suspect-data checks (疑点核查) on a national monitoring-system download.

No database is needed. Without FILE the registry is checked instead (``--database``, ``--region``,
``--year``): its persons of the region, exported as rows of the national layout, the same rules.
Exit 0 when the checks ran (suspects found or not); exit 2 when the file or
a rule file cannot be used (missing columns are named and the expected layout listed; ID numbers
saved as numbers are refused with how to fix them).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, existing, opened, reported_failures, require_current
from bangfu.cli.errors import fail

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from sqlalchemy import Engine

    from bangfu.checks.report import WrittenReport
    from bangfu.checks.ruleset import RuleSet
    from bangfu.checks.run import CheckRun


def _say(message: str, *, stderr: bool = False) -> None:
    render.console(stderr=stderr).print(message, markup=False, highlight=False)


def check(
    file: Annotated[
        Path | None,
        typer.Argument(help="人口信息表：XLSX，或 CSV（UTF-8 或 GBK）；不给出时核查登记库", show_default=False),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="结果写入的目录；默认为文件旁的“<文件名>_疑点核查”目录")
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", help="追加的规则文件（YAML），可多次给出；同编号的规则替换内置规则"),
    ] = None,
    disable: Annotated[list[str] | None, typer.Option("--disable", help="停用的规则编号，可多次给出")] = None,
    day: Annotated[str | None, typer.Option("--date", help="核查日期（计算年龄用），YYYY-MM-DD；默认今天")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="输出 JSON 汇总（每条规则的编号、说明、严重程度、行数）")
    ] = False,
    database: DatabaseOption = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="核查登记库时的地区代码：省 14、市 4 位、县 6 位或乡镇 9 位；默认全省"),
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="核查登记库时取哪一年度的务工、公益性岗位信息；默认各人最近的年度")
    ] = None,
) -> None:
    """对全国防返贫监测信息系统下载的人口信息表做疑点核查，按规则输出疑点行（证件号码、电话已打码）。"""
    from bangfu.checks.report import write_report
    from bangfu.checks.ruleset import RuleFileError, load_rules
    from bangfu.checks.run import check_file
    from bangfu.checks.source import CheckInputError

    with ExitStack() as stack:  # the registry's context, when one is used, ends with the command
        # the registry: checked itself (no FILE), or compared with the file (FILE with --database or --region)
        with_registry: _RegistryCheck | None = None
        if file is None:
            with_registry = _RegistryCheck(database, region, year, stack)
        elif year is not None:
            fail("--year 只用于核查登记库（不给出文件）；核查文件时请去掉它")
        elif not file.is_file():
            fail(f"找不到文件 {file}：请检查路径")
        elif database or region:
            with_registry = _RegistryCheck(database, region, None, stack)
        try:
            check_day = dt.date.fromisoformat(day) if day else dt.date.today()
        except ValueError:
            fail(f"--date 的值 {day!r} 不是有效日期，应为 YYYY-MM-DD（如 2024-06-30）")
        try:
            # the rules comparing a download with the registry need both (rules/registry.yaml)
            rule_set = load_rules(rules or [], disable or [], registry=file is not None and with_registry is not None)
        except RuleFileError as exc:
            fail(str(exc))
        started = time.perf_counter()
        try:
            if file is None:
                assert with_registry is not None
                folder = out or Path(f"登记库_{with_registry.scope.region_code}_疑点核查")
                run, written = with_registry.run(rule_set, check_day, folder)
            elif with_registry is not None:
                folder = out or file.with_name(f"{file.stem}_疑点核查")
                run, written = with_registry.compare(file, rule_set, check_day, folder)
            else:
                folder = out or file.with_name(f"{file.stem}_疑点核查")
                with check_file(file, rule_set, check_day) as run:
                    written = write_report(run, folder)
        except CheckInputError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"读写文件失败（{exc.filename or folder}：{exc.strerror or exc}）：请检查 --out 目录是否可写")
    seconds = time.perf_counter() - started
    loaded = run.loaded
    if as_json:
        summary = {
            "file": str(file) if file else run.loaded.path.name,
            "date": check_day.isoformat(),
            "rows": loaded.rows,
            "unreadable_rows": len(loaded.rejected),
            "seconds": round(seconds, 2),
            "summary_file": str(written.summary),
            "warnings": loaded.warnings,
            "rules": [
                {
                    "id": r.rule.id,
                    "description": r.rule.description,
                    "severity": r.rule.severity_label,
                    "count": r.count,
                    "file": str(written.rule_files[r.rule.id]) if r.rule.id in written.rule_files else None,
                    "not_checked": r.not_checked or None,
                }
                for r in run.results
            ],
        }
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    checked = [r for r in run.results if r.checked]
    _say(
        f"{loaded.path.name}：共 {loaded.rows:,} 行，核查 {len(checked)} 条规则，用时 {seconds:.1f} 秒；"
        f"{len(run.suspects)} 条规则发现疑点"
    )
    for result in run.suspects:
        _say(f"  {result.rule.id}［{result.rule.severity_label}］{result.rule.description}：{result.count:,} 行")
    for result in run.results:
        if not result.checked:
            _say(f"  {result.rule.id} {result.rule.description}：{result.not_checked}")
    if loaded.rejected:
        _say(f"提醒：{len(loaded.rejected):,} 行无法读取，未核查（见汇总表“无法读取的行”）")
    for warning in loaded.warnings:
        _say(f"提醒：{warning}")
    _say(f"汇总表：{written.summary}")


class _RegistryCheck:
    """The registry to check and the scope to check it in, refused (exit 2) before anything is read."""

    def __init__(self, database: str | None, region: str | None, year: int | None, stack: ExitStack) -> None:
        from bangfu.access.scope import Scope, UnknownRegionError

        try:
            # the CLI runs as the operator: the whole province unless a region is named
            self.scope = Scope.for_region((region or "14").strip())
        except UnknownRegionError as exc:
            fail(f"--region：{exc}")
        if year is not None and not 2000 <= year <= 2100:
            fail(f"--year 的值 {year} 不是有效年度，应为四位年份（如 2024）")
        self.target = existing(database)
        self.context = stack.enter_context(opened(self.target))
        require_current(self.target, self.context)
        self.year = year

    def run(self, rule_set: RuleSet, day: dt.date, folder: Path) -> tuple[CheckRun, WrittenReport]:
        """Check the registry's persons of the scope."""
        from bangfu.checks.run import check_registry

        return self._checked(lambda engine: check_registry(engine, self.scope, rule_set, day, self.year), folder)

    def compare(self, file: Path, rule_set: RuleSet, day: dt.date, folder: Path) -> tuple[CheckRun, WrittenReport]:
        """Check ``file``, its ID numbers looked up in the registry's scope for the registry's rules."""
        from bangfu.checks.run import check_file

        return self._checked(lambda engine: check_file(file, rule_set, day, (engine, self.scope)), folder)

    def _checked(
        self, checking: Callable[[Engine], AbstractContextManager[CheckRun]], folder: Path
    ) -> tuple[CheckRun, WrittenReport]:
        from bangfu.checks.registry_source import record_check
        from bangfu.checks.report import write_report
        from bangfu.cli.account_cmds import _actor as command_actor

        engine = self.context.engine
        with reported_failures(self.target), checking(engine) as run:
            # on the audit log before any workbook of registry data is written
            record_check(engine, self.scope, run.loaded.rows, command_actor())
            return run, write_report(run, folder)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
