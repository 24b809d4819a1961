"""``bangfu budgets`` (allocations per county, fund and year) and ``bangfu ledger prove`` (ADR 0035)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from bangfu.cli import render
from bangfu.cli.claims_cmds import AsOption, _say, _work
from bangfu.cli.database import DatabaseOption
from bangfu.cli.errors import fail

budgets_app = typer.Typer(help="预算：按县、资金、年度设定，查看已承诺、已支付与剩余", no_args_is_help=True)
keys_app = typer.Typer(help="密钥：轮换收款账号的加密密钥", no_args_is_help=True)
ledger_app = typer.Typer(help="已享受记录（台账）：核对支付、台账与预算是否一致", no_args_is_help=True)
CountyOption = Annotated[str | None, typer.Option("--county", help="县（6 位代码）；市、省代码列出其下各县")]
YearOption = Annotated[int | None, typer.Option("--year", help="年度（申报所属年度）")]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def budgets_set(
    county: Annotated[str, typer.Option("--county", help="县（6 位代码）", show_default=False)],
    fund: Annotated[str, typer.Option("--fund", help="资金：revitalization、employment 等", show_default=False)],
    year: Annotated[int, typer.Option("--year", help="年度", show_default=False)],
    amount_yuan: Annotated[str, typer.Option("--amount-yuan", help="预算金额（元，最多两位小数）", show_default=False)],
    account: AsOption = None,
    reason: Annotated[str | None, typer.Option("--reason", help="下达或调整的依据（如文号）")] = None,
    database: DatabaseOption = None,
) -> None:
    """设定或调整某县某资金某年度的预算（省级账户可设全省，市级账户可设本市各县）；每次调整都留有记录。"""
    from sqlalchemy import select

    from bangfu.claims.budgets import Scope, set_budget
    from bangfu.core.money import format_yuan, parse_yuan
    from bangfu.store.tables import User

    try:
        amount_fen = parse_yuan(amount_yuan)
    except ValueError as exc:
        fail(f"--amount-yuan：{exc}")
    if account is None:
        fail("设定预算须用 --as 指明省级或市级账户")
    with _work(database) as (_, connection):
        row = connection.execute(
            select(User.role, User.active, User.region_code).where(User.username == account)
        ).one_or_none()
        if row is None:
            fail(f"没有用户名为 {account} 的账户（--as）")
        if not row.active:
            fail(f"账户 {account} 已停用")
        if row.role not in ("province", "city"):
            fail(f"账户 {account} 不能设定预算：只有省级或市级账户可以设定")
        scope = Scope(account, row.role, row.region_code)
        from bangfu.claims.records import ClaimError

        try:
            set_budget(
                connection, region=county, fund=fund, year=year, amount_fen=amount_fen, scope=scope, reason=reason
            )
        except ClaimError as exc:
            fail(str(exc))
    _say(f"已设定 {render.region_label(county)} {year} 年 {fund} 预算：{format_yuan(amount_fen)}（{account}）")


def budgets_list(
    county: CountyOption = None, year: YearOption = None, as_json: JsonOption = False, database: DatabaseOption = None
) -> None:
    """列出预算：已下达、已承诺（已批准、已列入批次、已支付、支付失败待重发）、已支付、剩余。"""
    from bangfu.claims.budgets import fund_label, summary
    from bangfu.core.money import format_yuan

    with _work(database) as (_, connection):
        lines = summary(connection, region=county, year=year)
    if as_json:
        sys.stdout.write(json.dumps([line.as_json() for line in lines], ensure_ascii=False, indent=2) + "\n")
        return
    if not lines:
        _say("尚无预算：可用 bangfu budgets set --county 县 --fund 资金 --year 年度 --amount-yuan 金额 --as 账户 设定")
        return
    table = Table(title=f"预算（{len(lines)} 项）")
    for column in ("年度", "县", "资金", "已下达", "已承诺", "已支付", "剩余"):
        table.add_column(column)
    for line in lines:
        table.add_row(
            str(line.year),
            render.region_label(line.region_code),
            fund_label(line.fund),
            "未设预算" if line.allocated_fen is None else format_yuan(line.allocated_fen),
            format_yuan(line.committed_fen),
            format_yuan(line.paid_fen),
            "—" if line.remaining_fen is None else format_yuan(line.remaining_fen),
        )
    render.console().print(table)


def ledger_prove(year: YearOption = None, as_json: JsonOption = False, database: DatabaseOption = None) -> None:
    """核对：按资金和县，支付（成功减退汇）= 对账写入的已享受记录 = 预算的已支付；不一致时逐项列出并以 1 退出。"""
    from bangfu.claims.ledger_proof import prove
    from bangfu.core.money import format_yuan

    with _work(database) as (_, connection):
        proof = prove(connection, year=year)
    if as_json:
        sys.stdout.write(json.dumps(proof.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        for line in proof.differences:
            _say(f"不一致：{line.difference()}")
        for entry in proof.unlinked:
            _say(
                f"不一致：已享受记录 {entry['ledger_entry']}（{entry['source']}，{format_yuan(entry['amount_fen'])}）"
                "没有任何支付记录与之对应"
            )
        total = sum(line.payments_fen for line in proof.lines)
        if proof.holds:
            _say(f"核对一致：{len(proof.lines)} 项（年度、资金、县），支付合计 {format_yuan(total)}")
        else:
            _say(f"核对不一致：{len(proof.differences)} 项金额不符，{len(proof.unlinked)} 条已享受记录无对应支付")
    if not proof.holds:
        raise typer.Exit(1)


def keys_rotate_accounts(
    old_key_file: Annotated[
        typer.FileText | None,
        typer.Option("--old-key-file", help="保存旧密钥的文件（新密钥取自当前配置）", show_default=False),
    ] = None,
    from_development_key: Annotated[
        bool, typer.Option("--from-development-key", help="旧数据是用开发密钥加密的（未配置密钥时写入）")
    ] = False,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """用当前配置的新密钥（BANGFU_ACCOUNT_KEY 或 BANGFU_ACCOUNT_KEY_FILE）重新加密全部收款账号，一次事务完成。"""
    from bangfu.claims.key_rotation import rotate_accounts
    from bangfu.claims.records import ClaimError
    from bangfu.cli.account_cmds import _actor as os_actor
    from bangfu.core.account_cipher import DEVELOPMENT_KEY, AccountCipher, AccountKeyError, parse_key

    if (old_key_file is None) == (not from_development_key):
        fail("请用 --old-key-file 指明旧密钥文件，或用 --from-development-key 表示旧数据用开发密钥加密（二选一）")
    try:
        text = None if old_key_file is None else old_key_file.read()
        old = AccountCipher(DEVELOPMENT_KEY if text is None else parse_key(text, "旧密钥文件"))
    except AccountKeyError as exc:
        fail(str(exc))
    with _work(database) as (context, connection):
        try:
            new = context.settings.account_cipher()
            if new.development:
                fail("未配置新密钥：请先设置 BANGFU_ACCOUNT_KEY 或 BANGFU_ACCOUNT_KEY_FILE 为新密钥")
            done = rotate_accounts(connection, old, new, account or os_actor())
        except (AccountKeyError, ClaimError) as exc:
            fail(str(exc))
    _say(
        f"已用新密钥（指纹 {new.key_id}）重新加密：申报 {done.claims:,} 笔，支付 {done.payments:,} 笔，"
        f"已批准批次重算校验 {done.batches_rehashed:,} 个"
    )


def register(app: typer.Typer) -> None:
    budgets_app.command("set")(budgets_set)
    budgets_app.command("list")(budgets_list)
    ledger_app.command("prove")(ledger_prove)
    keys_app.command("rotate-accounts")(keys_rotate_accounts)
    app.add_typer(keys_app, name="keys")
    app.add_typer(budgets_app, name="budgets")
    app.add_typer(ledger_app, name="ledger")
