"""``bangfu claims`` and ``bangfu payments``: the monthly run, approval and each batch step (ADR 0031).

Who acts: ``--as`` names an account of the platform (active, not an auditor; county, city and
province accounts may approve a flagged claim with ``--override``); without it the operating-system
user (``cli:<name>``). The approver of a claim or batch is never its maker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table

from bangfu.cli import render
from bangfu.cli.account_cmds import _actor as os_actor
from bangfu.cli.database import DatabaseOption, current_connection, existing, opened
from bangfu.cli.errors import fail

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from bangfu.claims.decisions import Actor
    from bangfu.context import Context
    from bangfu.core.account_cipher import AccountCipher

T = TypeVar("T")
AsOption = Annotated[str | None, typer.Option("--as", help="以该平台账户的身份操作（默认：操作系统用户）")]
claims_app = typer.Typer(
    help="补贴申报：按月生成、列出、审批（经办与审批分离）、市级复核、公示与异议", no_args_is_help=True
)
payments_app = typer.Typer(help="支付批次：生成、批准、导出银行文件、导入回单、对账、重新支付", no_args_is_help=True)


def _say(message: str) -> None:
    render.console().print(message, markup=False, highlight=False)


@contextmanager
def _work(database: str | None) -> Iterator[tuple[Context, Connection]]:
    """The command's context and a connection in one transaction (committed when the block ends)."""
    target = existing(database)
    with opened(target) as context, current_connection(target, context) as connection, connection.begin():
        yield context, connection


def _acting(connection: Connection, account: str | None) -> Actor:
    from sqlalchemy import select

    from bangfu.claims.decisions import Actor
    from bangfu.store.tables import User

    if account is None:
        return Actor(os_actor())
    row = connection.execute(
        select(User.role, User.active, User.region_code).where(User.username == account)
    ).one_or_none()
    if row is None:
        fail(f"没有用户名为 {account} 的账户（--as）")
    if not row.active:
        fail(f"账户 {account} 已停用，不能操作申报或支付")
    if row.role in ("auditor", "township"):
        fail(f"账户 {account} 的角色不能审批申报或支付（审计人员只读，乡镇账户只能起草）")
    return Actor(
        account, may_override=row.role in ("county", "city", "province"), role=row.role, region=row.region_code
    )


def _refused(work: Callable[[], T]) -> T:
    from bangfu.claims.records import ClaimError

    try:
        return work()
    except ClaimError as exc:
        fail(str(exc))


def _cipher(context: Context) -> AccountCipher:
    """The account cipher the settings configure (ADR 0035); a missing production key stops here."""
    from bangfu.core.account_cipher import AccountKeyError

    try:
        return context.settings.account_cipher()
    except AccountKeyError as exc:
        fail(str(exc))


def _ids(values: list[str]) -> list[int]:
    if not all(v.isdigit() for v in values):
        fail(f"申报编号应为正整数：{' '.join(values)}")
    return [int(v) for v in values]


def claims_run(
    month: Annotated[str, typer.Option("--month", help="月份 YYYY-MM：按该月最后一天评估", show_default=False)],
    county: Annotated[str | None, typer.Option("--county", help="只处理该地区（行政区划代码前缀）的对象")] = None,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """按月评估登记库中的人员和单位，为可享受的补贴起草申报并自动审核；重复运行不会重复申报。"""
    from bangfu.claims.drafting import month_end, monthly_run

    try:
        month_end(month)
    except ValueError as exc:
        fail(str(exc))
    if county is not None and not (county.isdigit() and len(county) in (2, 4, 6)):
        fail(f"--county 应为 2、4 或 6 位行政区划代码，实为 {county!r}")
    target = existing(database)
    with opened(target) as context, current_connection(target, context) as connection:
        actor = _acting(connection, account)
        connection.rollback()
        report = monthly_run(context.engine, context.policies, month, actor=actor.name, region=county, checker=actor)
    _say(f"评估日：{report.day.isoformat()}，评估对象 {report.cases:,} 个")
    _say(
        f"新起草并自动审核的申报：{len(report.drafted):,} 笔；已有申报（同一计发依据）而跳过：{report.duplicates:,} 笔"
    )
    for reason in report.refused[:20]:
        _say(f"未起草：{reason}")


def claims_list(
    status: Annotated[str | None, typer.Option("--status", help="只列出该状态（如 checked、approved）")] = None,
    county: Annotated[str | None, typer.Option("--county", help="只列出该县（6 位代码）")] = None,
    limit: Annotated[int, typer.Option("--limit", help="最多列出多少笔", min=1)] = 100,
    database: DatabaseOption = None,
) -> None:
    """列出申报：编号、对象、项目、金额、状态、是否未通过自动审核（收款账号脱敏）。"""
    from sqlalchemy import select

    from bangfu.claims.records import CLAIMS, STATUS_LABELS
    from bangfu.core.account_cipher import masked
    from bangfu.core.money import format_yuan
    from bangfu.store.claim_tables import CLAIM_STATUSES

    if status is not None and status not in CLAIM_STATUSES:
        fail(f"--status 应为以下之一：{'、'.join(f'{s}（{STATUS_LABELS[s]}）' for s in CLAIM_STATUSES)}")
    query = select(CLAIMS).order_by(CLAIMS.c.id).limit(limit)
    if status is not None:
        query = query.where(CLAIMS.c.status == status)
    if county is not None:
        query = query.where(CLAIMS.c.region_code == county)
    with _work(database) as (context, connection):
        rows = connection.execute(query).all()
        policies = context.policies
    table = Table(title=f"申报（{len(rows)} 笔）")
    for column in ("编号", "对象", "项目", "金额", "状态", "县", "自动审核", "收款账号"):
        table.add_column(column)
    for row in rows:
        benefit = policies.benefit(row.benefit_id)
        who = f"人员 {row.person_id}" if row.person_id is not None else f"单位 {row.org_id}"
        table.add_row(
            str(row.id),
            who,
            benefit.label if benefit else row.benefit_id,
            format_yuan(row.amount_fen),
            STATUS_LABELS[row.status],
            render.region_label(row.region_code),
            "未审核" if row.check_results is None else ("未通过" if row.flagged else "通过"),
            masked(row.payee_account_tail) or "未登记",
        )
    render.console().print(table)


def claims_approve(
    ids: Annotated[list[str] | None, typer.Argument(help="申报编号，可多个", show_default=False)] = None,
    override: Annotated[
        str | None, typer.Option("--override", help="批准未通过自动审核的申报时写明理由（需县级以上账户）")
    ] = None,
    all_checked: Annotated[
        bool, typer.Option("--all-checked", help="批准该县全部已自动审核且通过的申报（须同时写 --county）")
    ] = False,
    county: Annotated[str | None, typer.Option("--county", help="与 --all-checked 同用：县（6 位代码）")] = None,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """批准已自动审核的申报（一次可多笔，全部成功才生效）；审批人不能是起草人。"""
    from sqlalchemy import select

    from bangfu.claims.decisions import approve_many
    from bangfu.claims.records import CLAIMS

    if all_checked == bool(ids):
        fail("请写出要批准的申报编号，或用 --all-checked --county 县代码 批准该县全部已通过自动审核的申报（二者选一）")
    if all_checked and not county:
        fail("--all-checked 须同时写 --county 县代码（6 位）")
    numbers = _ids(ids or [])
    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        if all_checked:
            numbers = list(
                connection.execute(
                    select(CLAIMS.c.id)
                    .where(CLAIMS.c.status == "checked", CLAIMS.c.region_code == county, CLAIMS.c.flagged.is_(False))
                    .order_by(CLAIMS.c.id)
                ).scalars()
            )
        if not numbers:
            fail(f"县 {county} 没有已自动审核且通过、待批准的申报")
        approved = _refused(lambda: approve_many(connection, numbers, actor, override))
    _say(f"已批准 {approved} 笔申报（审批人 {actor.name}）")


def claims_reject(
    claim_id: Annotated[int, typer.Argument(help="申报编号", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="驳回理由（必填）", show_default=False)],
    back: Annotated[bool, typer.Option("--return", help="退回修改而不是驳回")] = False,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """驳回申报（释放其计发依据），或以 --return 退回起草人修改；都须写明理由。"""
    from bangfu.claims.decisions import reject, return_for_correction

    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        step = return_for_correction if back else reject
        _refused(lambda: step(connection, claim_id, actor, reason))
    _say(f"申报 {claim_id} 已{'退回修改' if back else '驳回'}：{reason}")


PayeeName = Annotated[str, typer.Option("--name", help="收款人（户名）", show_default=False)]
PayeeAccount = Annotated[
    str, typer.Option("--account", help="收款账号（社保卡金融账户或单位银行账户）", show_default=False)
]
PayeeBank = Annotated[str | None, typer.Option("--bank", help="开户银行")]


def claims_payee(
    claim_id: Annotated[int, typer.Argument(help="申报编号", show_default=False)],
    name: PayeeName,
    account_number: PayeeAccount,
    bank: PayeeBank = None,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """登记申报的收款账户（屏幕与审计记录中只显示后四位）。"""
    from bangfu.claims.decisions import masked_account, set_payee
    from bangfu.claims.drafting import Payee

    with _work(database) as (context, connection):
        actor = _acting(connection, account)
        cipher = _cipher(context)
        _refused(lambda: set_payee(connection, claim_id, actor, Payee(name, account_number, bank), cipher=cipher))
    _say(f"申报 {claim_id} 的收款账户已登记：{name} {masked_account(account_number.replace(' ', ''))}")


def payments_build(
    fund: Annotated[str, typer.Option("--fund", help="资金：revitalization、employment 等", show_default=False)],
    county: Annotated[str, typer.Option("--county", help="县（6 位代码）", show_default=False)],
    payer_bank: Annotated[str, typer.Option("--payer-bank", help="付款银行", show_default=False)],
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """把该县该资金已批准且有收款账户的申报生成一个支付批次（之后须由另一人批准）。"""
    from bangfu.claims.payments import build_batch
    from bangfu.core.money import format_yuan

    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        built = _refused(lambda: build_batch(connection, fund=fund, region=county, payer_bank=payer_bank, actor=actor))
    if built.batch_id is None:
        _say("没有可生成批次的已批准申报")
    else:
        _say(f"已生成支付批次 {built.batch_id}：{built.lines:,} 笔，合计 {format_yuan(built.total_fen)}")
    if built.held:
        shown = "、".join(str(i) for i in built.held[:20])
        _say(f"待市级复核、未过公示期或有未处理异议、暂不列入批次的申报 {len(built.held)} 笔：{shown}")
    if built.without_account:
        shown = "、".join(str(i) for i in built.without_account[:20])
        _say(f"缺少收款账户、未列入批次的申报 {len(built.without_account)} 笔：{shown}（用 bangfu claims payee 登记）")


BatchArgument = Annotated[int, typer.Argument(help="支付批次编号", show_default=False)]


def payments_approve(batch_id: BatchArgument, account: AsOption = None, database: DatabaseOption = None) -> None:
    """批准支付批次（不能由生成人批准）：记录批次内容的哈希，导出时核对。"""
    from bangfu.claims.payments import approve_batch

    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        digest = _refused(lambda: approve_batch(connection, batch_id, actor))
    _say(f"支付批次 {batch_id} 已批准（内容哈希 {digest[:16]}…）")


def payments_export(
    batch_id: BatchArgument,
    out: Annotated[Path, typer.Option("--out", help="银行文件写到这里", show_default=False)],
    layout: Annotated[str, typer.Option("--layout", help="文件格式：csv 或 xlsx（列相同）")] = "csv",
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """导出已批准批次的银行文件（含完整账号，导出记入审计）；批准后被改动的批次不导出。"""
    from bangfu.claims.payments import export_batch

    if layout not in ("csv", "xlsx"):
        fail(f"--layout 应为 csv 或 xlsx，实为 {layout!r}")
    if not out.parent.is_dir():
        fail(f"目录 {out.parent} 不存在")
    with _work(database) as (context, connection):
        actor = _acting(connection, account)
        cipher = _cipher(context)
        lines = _refused(lambda: export_batch(connection, batch_id, out, actor, cipher=cipher, layout=layout))
    _say(f"已导出支付批次 {batch_id} 的银行文件 {out}：{lines:,} 笔")


def payments_import_return(
    path: Annotated[
        Path, typer.Argument(help="银行回单文件（CSV 或 XLSX，格式见 docs/payments.md）", show_default=False)
    ],
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """导入银行回单：按支付流水号记录成功、失败或退汇；同一回单重复导入不会改变任何记录。"""
    from bangfu.claims.bank_files import ReturnFileError
    from bangfu.claims.payments import import_return

    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        try:
            report = import_return(connection, path, actor)
        except ReturnFileError as exc:
            fail(str(exc))
    applied = report.applied
    _say(
        f"成功 {applied['paid']:,} 笔，失败 {applied['failed']:,} 笔，退汇 {applied['reversed']:,} 笔，"
        f"此前已记录 {report.unchanged:,} 笔"
    )
    for problem in report.problems[:50]:
        _say(f"未处理：{problem}")


def payments_reconcile(account: AsOption = None, database: DatabaseOption = None) -> None:
    """对账：支付成功的写入已享受记录（政策评估据此不再重复享受），失败的申报转为支付失败，退汇的冲回。"""
    from bangfu.claims.payments import reconcile

    with _work(database) as (_, connection):
        done = reconcile(connection, _acting(connection, account))
    _say(f"对账完成：写入已享受记录 {done.paid:,} 笔，支付失败 {done.failed:,} 笔，退汇冲回 {done.reversed:,} 笔")


def payments_reissue(
    claim_id: Annotated[int, typer.Argument(help="支付失败的申报编号", show_default=False)],
    name: PayeeName,
    account_number: PayeeAccount,
    reason: Annotated[str, typer.Option("--reason", help="更正原因", show_default=False)],
    bank: PayeeBank = None,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """支付失败的申报改为更正后的账户，重新列入下一个支付批次。"""
    from bangfu.claims.drafting import Payee
    from bangfu.claims.payments import reissue

    with _work(database) as (context, connection):
        actor = _acting(connection, account)
        payee = Payee(name, account_number, bank)
        cipher = _cipher(context)
        _refused(lambda: reissue(connection, claim_id, payee, actor, reason, cipher=cipher))
    _say(f"申报 {claim_id} 已改为新账户，将列入下一个支付批次（{dt.date.today().isoformat()}）")


def claims_review(
    claim_id: Annotated[int, typer.Argument(help="申报编号", show_default=False)],
    reject: Annotated[bool, typer.Option("--reject", help="复核不同意：驳回申报（须写 --reason）")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="不同意的理由")] = None,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """市级复核：县级已批准的 10 万元及以上单位奖补，须由所在市的市级账户复核通过后才能支付。"""
    from bangfu.claims.reviews import review

    if reject and not (reason or "").strip():
        fail("复核不同意时必须用 --reason 写明理由")
    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        _refused(lambda: review(connection, claim_id, actor, reject_reason=reason if reject else None))
    _say(f"申报 {claim_id} {'市级复核不同意，已驳回：' + (reason or '') if reject else '市级复核通过'}（{actor.name}）")


def claims_posting_rule(
    county: Annotated[str, typer.Argument(help="县（6 位代码）", show_default=False)],
    days: Annotated[int | None, typer.Option("--days", help="公示天数（默认取 BANGFU_CLAIM_POSTING_DAYS）")] = None,
    off: Annotated[bool, typer.Option("--off", help="该县不再要求公示（已批准的申报仍按批准时的规则）")] = False,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """设置一个县是否对批准的申报进行公示、公示多少天；此后批准的申报按此执行。"""
    from bangfu.claims.postings import set_county_rule

    if off and days is not None:
        fail("--off 与 --days 不能同时使用")
    with _work(database) as (context, connection):
        actor = _acting(connection, account)
        wanted = None if off else (days if days is not None else context.settings.claim_posting_days)
        rule = _refused(lambda: set_county_rule(connection, county, wanted, actor))
    if rule.posting_days is None:
        _say(f"{render.region_label(county)}此后批准的申报不再公示")
    else:
        _say(f"{render.region_label(county)}此后批准的申报须公示 {rule.posting_days} 天，期满且无未处理异议方可支付")


def claims_post(
    ids: Annotated[list[str], typer.Argument(help="申报编号，可多个", show_default=False)],
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """公示已批准的申报（从今天起，天数按批准时所在县的规则）；一次可多笔，全部成功才生效。"""
    from bangfu.claims.postings import post

    numbers = _ids(ids)
    today = dt.date.today()
    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        last = [_refused(lambda claim_id=claim_id: post(connection, claim_id, actor, today)) for claim_id in numbers]  # type: ignore[misc]
    for claim_id, until in zip(numbers, last, strict=True):
        _say(f"申报 {claim_id} 公示 {today.isoformat()} 至 {until.isoformat()}")


def claims_objection(
    claim_id: Annotated[int, typer.Argument(help="申报编号", show_default=False)],
    by: Annotated[str, typer.Option("--by", help="异议人（姓名、村组，或“匿名”）", show_default=False)],
    content: Annotated[str, typer.Option("--content", help="异议内容", show_default=False)],
    on: Annotated[str | None, typer.Option("--on", help="异议提出日期 YYYY-MM-DD（默认今天），须在公示期内")] = None,
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """登记公示期内收到的异议；有未处理异议的申报不能列入支付批次。"""
    from bangfu.claims.postings import record_objection

    raised_on = _date(on, "--on")
    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        number = _refused(
            lambda: record_objection(connection, claim_id, actor, raised_by=by, content=content, raised_on=raised_on)
        )
    _say(f"已登记申报 {claim_id} 的公示异议 {number}；处理前该申报不列入支付批次")


def claims_resolve_objection(
    objection_id: Annotated[int, typer.Argument(help="公示异议编号", show_default=False)],
    decision: Annotated[
        str,
        typer.Option(
            "--decision",
            help="dismiss（不成立，继续）、return（成立，退回修改）或 reject（成立，驳回）",
            show_default=False,
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="处理理由（必填）", show_default=False)],
    account: AsOption = None,
    database: DatabaseOption = None,
) -> None:
    """处理公示异议：不成立则申报继续；成立则退回修改或驳回。处理结果记入申报记录和审计日志。"""
    from bangfu.claims.postings import RESOLUTIONS, resolve_objection

    with _work(database) as (_, connection):
        actor = _acting(connection, account)
        _refused(lambda: resolve_objection(connection, objection_id, actor, decision, reason))
    _say(f"公示异议 {objection_id}：{RESOLUTIONS[decision]}（{reason}）")


def _date(value: str | None, option: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{option} 日期 {value!r} 格式不正确，应为 YYYY-MM-DD（如 2024-07-01）")


def register(app: typer.Typer) -> None:
    claims_app.command("run")(claims_run)
    claims_app.command("list")(claims_list)
    claims_app.command("approve")(claims_approve)
    claims_app.command("reject")(claims_reject)
    claims_app.command("payee")(claims_payee)
    claims_app.command("review")(claims_review)
    claims_app.command("posting-rule")(claims_posting_rule)
    claims_app.command("post")(claims_post)
    claims_app.command("objection")(claims_objection)
    claims_app.command("resolve-objection")(claims_resolve_objection)
    payments_app.command("build")(payments_build)
    payments_app.command("approve")(payments_approve)
    payments_app.command("export")(payments_export)
    payments_app.command("import-return")(payments_import_return)
    payments_app.command("reconcile")(payments_reconcile)
    payments_app.command("reissue")(payments_reissue)
    app.add_typer(claims_app, name="claims")
    app.add_typer(payments_app, name="payments")
