"""``bangfu check FILE``: suspect-data checks (疑点核查) on a national monitoring-system download.

No database is needed. Exit 0 when the checks ran (suspects found or not); exit 2 when the file or
a rule file cannot be used (missing columns are named and the expected layout listed; ID numbers
saved as numbers are refused with how to fix them).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bangfu.cli import render
from bangfu.cli.database import fail


def _say(message: str, *, stderr: bool = False) -> None:
    render.console(stderr=stderr).print(message, markup=False, highlight=False)


def check(
    file: Annotated[Path, typer.Argument(help="人口信息表：XLSX，或 CSV（UTF-8 或 GBK）", show_default=False)],
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
) -> None:
    """对全国防返贫监测信息系统下载的人口信息表做疑点核查，按规则输出疑点行（证件号码、电话已打码）。"""
    from bangfu.checks.report import write_report
    from bangfu.checks.ruleset import RuleFileError, load_rules
    from bangfu.checks.run import check_file
    from bangfu.checks.source import CheckInputError

    if not file.is_file():
        fail(f"找不到文件 {file}：请检查路径")
    try:
        check_day = dt.date.fromisoformat(day) if day else dt.date.today()
    except ValueError:
        fail(f"--date 的值 {day!r} 不是有效日期，应为 YYYY-MM-DD（如 2024-06-30）")
    try:
        rule_set = load_rules(rules or [], disable or [])
    except RuleFileError as exc:
        fail(str(exc))
    folder = out or file.with_name(f"{file.stem}_疑点核查")
    started = time.perf_counter()
    try:
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
            "file": str(file),
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
        f"{file.name}：共 {loaded.rows:,} 行，核查 {len(checked)} 条规则，用时 {seconds:.1f} 秒；"
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


def register(app: typer.Typer) -> None:
    app.command("check")(check)
