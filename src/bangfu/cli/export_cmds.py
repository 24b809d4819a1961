"""``bangfu export people --region CODE --out FILE.xlsx``: a region's registered people, masked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, existing, opened, reported_failures
from bangfu.cli.errors import fail


def export_people(
    region: Annotated[
        str,
        typer.Option(
            "--region", help="地区代码：省 2 位（14）、市 4 位（1411）或县 6 位（141123）", show_default=False
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="输出的 Excel 文件（.xlsx）", show_default=False)],
    database: DatabaseOption = None,
) -> None:
    """导出某地区（含下辖市县）户籍人员名册为 Excel，表头与人员导入表格一致。

    身份证号、联系电话已脱敏（如 1411************37、138******78），
    不含出生日期（它与户籍县一起会缩小被遮住数字的范围）。
    每次导出先记入审计日志再生成文件；不提供不脱敏的导出。
    """
    from bangfu.access.scope import Scope, UnknownRegionError
    from bangfu.cli.account_cmds import _actor as command_actor
    from bangfu.registry.people_export import export_people as export
    from bangfu.registry.queries import Reader

    if out.suffix.lower() != ".xlsx":
        fail(f"--out 应为 .xlsx 文件，实为 {out}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"无法创建输出目录 {out.parent}（{exc.strerror}）")
    try:
        scope = Scope.for_region(region.strip())
    except UnknownRegionError as exc:
        fail(f"--region：{exc}")
    target = existing(database)
    with opened(target) as context, reported_failures(target):
        try:
            report = export(context.engine, scope, out, exported_by=Reader(command_actor(), None))
        except OSError as exc:
            fail(f"无法写入 {out}（{exc.strerror or exc}）")
    render.console().print(
        f"已导出{report.region_name}（{report.region}）户籍人员 {report.rows:,} 人：{report.path}"
        "（身份证号、联系电话已脱敏）",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    export_app = typer.Typer(help="导出登记数据（身份证号、联系电话脱敏）", no_args_is_help=True)
    export_app.command("people")(export_people)
    app.add_typer(export_app, name="export")
