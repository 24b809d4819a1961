"""``bangfu stats refresh``: recompute the dashboard figures; imports and synthetic loads call it too."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Annotated

import typer

from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, Target, existing, first_line, opened, reported_failures
from bangfu.cli.errors import fail

if TYPE_CHECKING:
    from bangfu.context import Context


def _refresh(target: Target, context: Context, day: dt.date, *, stderr: bool) -> None:
    from bangfu.reports.dashboard import refresh_figures
    from bangfu.store.migrate import require_head

    started = time.perf_counter()
    with context.engine.connect() as connection:
        require_head(connection)
        # require_head read the schema version: end that transaction so the refresh has its own.
        connection.rollback()
        rows = refresh_figures(connection, day, context.policies)
    render.console(stderr=stderr).print(
        f"已更新数据库 {target.shown} 的统计看板数据（统计日期 {day}）：{rows:,} 行"
        f"（{time.perf_counter() - started:.1f} 秒）",
        markup=False,
        highlight=False,
    )


def refresh_dashboard(target: Target, context: Context, day: dt.date | None = None) -> None:
    """Refresh the figures of ``target`` as of ``day`` (default today); a failure exits 2 with its reason."""
    with reported_failures(target):
        _refresh(target, context, day or dt.date.today(), stderr=False)


def refresh_after_write(target: Target, context: Context, day: dt.date | None = None, *, stderr: bool = False) -> None:
    """Refresh after an import or load has committed: a failure is a warning, since the data are written."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        _refresh(target, context, day or dt.date.today(), stderr=stderr)
    except SQLAlchemyError as exc:
        render.console(stderr=True).print(
            f"提醒：数据已写入，但统计看板未能更新（{first_line(exc)}）：请稍后运行 "
            f"bangfu stats refresh --database {target.shown}",
            markup=False,
            highlight=False,
        )


def stats_refresh(
    database: DatabaseOption = None,
    on: Annotated[str | None, typer.Option("--date", help="统计日期 YYYY-MM-DD，默认今天")] = None,
) -> None:
    """重新计算统计看板数据（各乡镇、县的人数、人员类别、务工情况、资金与政策享受次数）。"""
    day = None
    if on is not None:
        try:
            day = dt.date.fromisoformat(on)
        except ValueError:
            fail(f"--date 的值 {on!r} 不是有效日期，应为 YYYY-MM-DD（如 2024-06-30）")
    target = existing(database)
    with opened(target) as context:
        refresh_dashboard(target, context, day)


def register(app: typer.Typer) -> None:
    stats_app = typer.Typer(help="统计看板", no_args_is_help=True)
    stats_app.command("refresh")(stats_refresh)
    app.add_typer(stats_app, name="stats")
