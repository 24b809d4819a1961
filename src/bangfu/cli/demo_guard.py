"""Keeping the demo's published password out of production: checks run by ``bangfu demo`` and ``serve``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection

from bangfu.cli import render
from bangfu.cli.database import Target, reported_failures
from bangfu.cli.errors import fail
from bangfu.settings import ENVIRONMENT_ENV, PRODUCTION

if TYPE_CHECKING:
    from bangfu.context import Context

T = TypeVar("T")


def _inspect(target: Target, context: Context, work: Callable[[Connection], T]) -> T:
    with reported_failures(target), context.engine.connect() as connection:
        return work(connection)


def refuse_unless_demo_database(target: Target, context: Context) -> None:
    """Exit 2 (saying why and what to do) in production mode, or when the database holds real data."""
    from bangfu.accounts.demo import demo_refusal

    if context.settings.production:
        fail(
            f"生产环境（{ENVIRONMENT_ENV}={PRODUCTION}）不能运行 bangfu demo：演示会建立口令公开的账户。"
            f"请在另一台机器或去掉 {ENVIRONMENT_ENV} 后，用一个新的数据库演示"
        )
    if reason := _inspect(target, context, demo_refusal):
        fail(
            f"bangfu demo 不能用于数据库 {target.shown}：{reason}。演示会建立五个口令公开的账户（省级可查看完整"
            "个人信息），不能放进在用的数据库。请用一个新的数据库演示，如 "
            "bangfu demo --database sqlite:///demo.db，或把 BANGFU_DATA_DIR 指向一个空文件夹"
        )


def check_demo_accounts_before_serving(target: Target, context: Context) -> None:
    """Warn loudly while demo accounts exist; in production mode refuse to start (exit 2)."""
    from bangfu.accounts.demo import demo_usernames

    names = _inspect(target, context, demo_usernames)
    if not names:
        return
    listed = "、".join(names)
    if context.settings.production:
        fail(
            f"拒绝在生产环境（{ENVIRONMENT_ENV}={PRODUCTION}）启动：数据库 {target.shown} 中有演示账户 {listed}，"
            "其口令已公开。请逐个停用（bangfu user disable 用户名），或改用未运行过 bangfu demo 的数据库"
        )
    render.console(stderr=True).print(
        f"警告：数据库中有演示账户 {listed}，口令已公开，任何人都能以省级身份登录并查看完整个人信息。"
        f"切勿在生产中使用：请用 bangfu user disable 停用这些账户；设 {ENVIRONMENT_ENV}={PRODUCTION} 时将拒绝启动",
        style="bold red",
        markup=False,
        highlight=False,
    )
