"""``bangfu people``: what a county records about a registered person outside the imports (ADR 0034)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from bangfu.cli import render
from bangfu.cli.claims_cmds import AsOption, _acting, _work
from bangfu.cli.database import DatabaseOption
from bangfu.cli.errors import fail

people_app = typer.Typer(help="登记库人员：记录导入表格之外的事实（如死亡）", no_args_is_help=True)


def record_death(
    id_number: Annotated[str, typer.Argument(help="身份证号", show_default=False)],
    date: Annotated[str, typer.Option("--date", help="死亡日期 YYYY-MM-DD", show_default=False)],
    source: Annotated[
        str, typer.Option("--source", help="信息来源（如“民政部门通报”“公安户籍注销”）", show_default=False)
    ],
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """记录人员死亡（全国系统下载表无死亡列，只能由此记录）；事件日在死亡之后或死亡后起草的申报将被标记。"""
    from bangfu.access.scope import Scope
    from bangfu.core.disclosure import masked_id_number
    from bangfu.registry.deaths import DeathRecordError
    from bangfu.registry.deaths import record_death as record

    try:
        died_on = dt.date.fromisoformat(date)
    except ValueError:
        fail(f"--date 日期 {date!r} 格式不正确，应为 YYYY-MM-DD（如 2024-05-20）")
    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        scope = Scope.for_region(actor.region) if actor.region else None
        try:
            done = record(connection, id_number, died_on, source, actor=actor.name, scope=scope)
        except DeathRecordError as exc:
            fail(str(exc))
    shown = masked_id_number(id_number.strip().upper())
    if not done.changed:
        render.console().print(f"{shown} 的死亡记录与已登记的相同，未作改动", markup=False)
    elif done.before is None:
        render.console().print(f"已记录 {shown} 于 {died_on.isoformat()} 死亡（来源：{source.strip()}）", markup=False)
    else:
        render.console().print(
            f"已将 {shown} 的死亡日期由 {done.before.isoformat()} 更正为 {died_on.isoformat()}", markup=False
        )


def register(app: typer.Typer) -> None:
    people_app.command("record-death")(record_death)
    app.add_typer(people_app, name="people")
