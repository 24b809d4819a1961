"""Account commands: ``bangfu user add|list|disable|enable|passwd|revoke-tokens|totp-reset`` (the audit
commands: ``cli.audit_cmds``)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, existing, opened, reported_failures
from bangfu.cli.errors import fail
from bangfu.core.regions import name_of

T = TypeVar("T")


def _say(message: str) -> None:
    render.console().print(message, markup=False, highlight=False)


def _actor() -> str:
    """Who ran the command, for the audit log: the operating-system user where it is known."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _in_session(database: str | None, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction: committed when it returns, rolled back when it raises (or fails)."""
    from bangfu.store.db import unit_of_work
    from bangfu.store.migrate import require_head

    target = existing(database)
    with opened(target) as context, reported_failures(target), unit_of_work(context.sessions) as session:
        require_head(session.connection())
        return work(session)


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def user_add(
    username: Annotated[str, typer.Argument(help="用户名：3–64 个字符，字母、数字、汉字和 . _ -", show_default=False)],
    role: Annotated[
        str,
        typer.Option("--role", help="角色：province、city、county、township 或 auditor", show_default=False),
    ],
    region: Annotated[
        str,
        typer.Option(
            "--region", help="所辖地区代码：省 140000、市 140100、县 141123、乡镇 141123100", show_default=False
        ),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入的第一行读取口令（必需）")
    ] = False,
    display_name: Annotated[str | None, typer.Option("--display-name", help="显示名称（如姓名），默认同用户名")] = None,
    can_unmask: Annotated[
        bool, typer.Option("--can-unmask", help="允许查看未脱敏的身份证号与电话（每次查看都记入审计日志）")
    ] = False,
    temporary: Annotated[bool, typer.Option("--temporary", help="临时口令：账户首次登录时必须改设自己的口令")] = False,
    database: DatabaseOption = None,
) -> None:
    """新建账户：角色与所辖地区决定能看到哪些数据；口令从标准输入读取，操作记入审计日志。"""
    from bangfu.accounts.users import AccountError, add_user, role_label

    if not password_stdin:
        fail(
            "请加 --password-stdin，从标准输入给出口令，如 printf '%s\\n' '口令' | bangfu user add 用户名 … "
            "--password-stdin；口令不接受命令行参数，因为命令行会留在 shell 历史和进程列表中"
        )
    password = _read_password()

    def work(session: Session) -> Any:
        try:
            return add_user(
                session,
                username=username,
                role=role,
                region_code=region,
                password=password,
                display_name=display_name,
                can_unmask=can_unmask,
                actor=_actor(),
                temporary=temporary,
            )
        except AccountError as exc:
            fail(str(exc))

    account = _in_session(database, work)
    _say(
        f"已新建账户 {account.username}（{account.display_name}）：角色 {role_label(account.role)}，"
        f"地区 {name_of(account.region_code)}（{account.region_code}），"
        f"{'可' if account.can_unmask else '不可'}查看未脱敏信息"
        + ("；口令为临时口令，首次登录须改设" if account.must_change_password else "")
    )


def _account_json(account: Any) -> dict[str, Any]:
    from bangfu.accounts.users import role_label

    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "role_label": role_label(account.role),
        "region_code": account.region_code,
        "region_name": name_of(account.region_code),
        "can_unmask": account.can_unmask,
        "active": account.active,
        "must_change_password": account.must_change_password,
        "second_factor": account.second_factor,
        "is_demo": account.is_demo,
    }


def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """列出全部账户（不显示口令或其哈希）。"""
    from bangfu.accounts.users import list_accounts

    accounts = [_account_json(a) for a in _in_session(database, list_accounts)]
    if as_json:
        sys.stdout.write(json.dumps(accounts, ensure_ascii=False, indent=2) + "\n")
        return
    if not accounts:
        _say("尚无账户：可用 bangfu user add 用户名 --role 角色 --region 地区代码 --password-stdin 新建")
        return
    table = Table(title=f"账户（{len(accounts)} 个）")
    for column in ("用户名", "显示名称", "角色", "地区", "未脱敏", "状态", "须改口令", "两步验证"):
        table.add_column(column)
    for a in accounts:
        table.add_row(
            *(escape(str(text)) for text in (a["username"], a["display_name"], a["role_label"])),
            escape(f"{a['region_name']}（{a['region_code']}）"),
            "可" if a["can_unmask"] else "否",
            ("启用" if a["active"] else "停用") + ("（演示）" if a["is_demo"] else ""),
            "是" if a["must_change_password"] else "否",
            "已启用" if a["second_factor"] else "未启用",
        )
    render.console().print(table)


UsernameArgument = Annotated[str, typer.Argument(help="用户名", show_default=False)]


def _change(database: str | None, work: Callable[[Session], T]) -> T:
    """Run an account change in one transaction; AccountError becomes an exit-2 message (nothing written)."""
    from bangfu.accounts.users import AccountError

    def guarded(session: Session) -> T:
        try:
            return work(session)
        except AccountError as exc:
            fail(str(exc))

    return _in_session(database, guarded)


def user_disable(username: UsernameArgument, database: DatabaseOption = None) -> None:
    """停用账户：不能再登录，已登录的网页会话与 API 令牌立即作废；记入审计日志。"""
    from bangfu.accounts.life_cycle import set_active

    _change(database, lambda session: set_active(session, username, False, actor=_actor()))
    _say(f"已停用账户 {username}：其网页会话与 API 令牌均已作废")


def user_enable(username: UsernameArgument, database: DatabaseOption = None) -> None:
    """重新启用已停用的账户；记入审计日志。"""
    from bangfu.accounts.life_cycle import set_active

    _change(database, lambda session: set_active(session, username, True, actor=_actor()))
    _say(f"已启用账户 {username}")


def user_passwd(
    username: UsernameArgument,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入的第一行读取新口令（必需）")
    ] = False,
    temporary: Annotated[bool, typer.Option("--temporary", help="临时口令：账户下次登录时必须改设自己的口令")] = False,
    database: DatabaseOption = None,
) -> None:
    """重设账户口令（如忘记口令）；该账户的网页会话与 API 令牌均作废；记入审计日志（不含口令）。"""
    from bangfu.accounts.life_cycle import set_password

    if not password_stdin:
        fail(
            "请加 --password-stdin，从标准输入给出新口令，如 printf '%s\n' '新口令' | bangfu user passwd 用户名 "
            "--password-stdin --temporary；口令不接受命令行参数，因为命令行会留在 shell 历史和进程列表中"
        )
    password = _read_password()
    _change(database, lambda session: set_password(session, username, password, temporary=temporary, actor=_actor()))
    _say(
        f"已重设账户 {username} 的口令"
        + ("（临时口令：下次登录须改设）" if temporary else "")
        + "；其网页会话与 API 令牌均已作废"
    )


def user_revoke_tokens(username: UsernameArgument, database: DatabaseOption = None) -> None:
    """作废账户的全部网页会话与 API 令牌（如设备丢失）；记入审计日志。"""
    from bangfu.accounts.life_cycle import revoke_tokens

    revoked = _change(database, lambda session: revoke_tokens(session, username, actor=_actor()))
    _say(f"已作废账户 {username} 的 {revoked} 个网页会话与 API 令牌")


def user_totp_reset(username: UsernameArgument, database: DatabaseOption = None) -> None:
    """取消账户的两步验证（如手机丢失），其会话与令牌作废；账户可在“我的账户”页面重新设置。"""
    from bangfu.accounts.life_cycle import reset_second_factor

    _change(database, lambda session: reset_second_factor(session, username, actor=_actor()))
    _say(f"已取消账户 {username} 的两步验证；其网页会话与 API 令牌均已作废")


def register(app: typer.Typer) -> None:
    user_app = typer.Typer(help="账户：新建、列出、停用与启用、重设口令、作废令牌、重置两步验证", no_args_is_help=True)
    user_app.command("add")(user_add)
    user_app.command("list")(user_list)
    user_app.command("disable")(user_disable)
    user_app.command("enable")(user_enable)
    user_app.command("passwd")(user_passwd)
    user_app.command("revoke-tokens")(user_revoke_tokens)
    user_app.command("totp-reset")(user_totp_reset)
    app.add_typer(user_app, name="user")
