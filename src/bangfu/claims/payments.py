"""Payment batches: build from approved claims, approve (maker-checker, content hash), export the bank
file, import the bank's return, reconcile into the ledger, re-issue a failed line.

Each step is one transaction, and each is written so that running it again after a crash (even
SIGKILL) changes nothing twice: a claim leaves ``approved`` when it enters a batch, a return line
that matches what is recorded is ``unchanged``, a paid line writes its ledger entry only while
``ledger_entry_id`` is empty. A second open payment of one claim is refused by a partial unique index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import BigInteger, Column, Connection, MetaData, String, Table, func, insert, select, update

from bangfu.access.scope import Scope
from bangfu.audit import log as audit
from bangfu.claims import bank_files, gates
from bangfu.claims.decisions import Actor, masked_account
from bangfu.claims.drafting import LEDGER, Payee, account_cipher, payee_values, valid_account
from bangfu.claims.kill_points import stall
from bangfu.claims.records import CHUNK, CLAIMS, ClaimError, claim_row, now, transition, transition_many
from bangfu.core.account_cipher import AccountCipher, AccountKeyError
from bangfu.core.money import format_yuan
from bangfu.core.regions import name_of
from bangfu.policy.model import FUNDS
from bangfu.registry.imports.upsert.bulk_io import id_in, insert_dicts
from bangfu.store.claim_tables import Payment, PaymentBatch

BATCHES = cast(Table, PaymentBatch.__table__)
PAYMENTS = cast(Table, Payment.__table__)
BATCH_LABELS = {
    "built": "已生成",
    "approved": "已批准",
    "exported": "已导出银行文件",
    "returned": "已导入回单",
    "reconciled": "已对账",
}
PAYMENT_LABELS = {
    "pending": "待银行处理",
    "paid": "支付成功",
    "failed": "支付失败",
    "reversed": "已退汇",
    "reissued": "已改账户重新支付",
}


class PaymentError(ClaimError):
    """A batch step refused, with the reason in Chinese."""


def _batch(connection: Connection, batch_id: int) -> Any:
    row = connection.execute(select(BATCHES).where(BATCHES.c.id == batch_id)).one_or_none()
    if row is None:
        raise PaymentError(f"没有编号为 {batch_id} 的支付批次")
    return row


def _lines(connection: Connection, batch_id: int) -> list[Any]:
    return list(connection.execute(select(PAYMENTS).where(PAYMENTS.c.batch_id == batch_id).order_by(PAYMENTS.c.id)))


def content_hash(batch: Any, lines: list[Any]) -> str:
    """SHA-256 over what the bank is told: payer, and each line's reference, claim, amount and payee
    (the account by its keyed hash: no key needed to approve; the export checks that the decrypted
    number has that hash, so a swapped ciphertext is refused too)."""
    content = {
        "fund": batch.fund,
        "region": batch.region_code,
        "payer_bank": batch.payer_bank,
        "lines": [
            [
                p.reference,
                p.claim_id,
                p.amount_fen,
                p.payee_name,
                p.payee_account_hmac,
                p.payee_bank,
            ]
            for p in sorted(lines, key=lambda p: p.reference)
        ],
    }
    return hashlib.sha256(audit.canonical_json(content).encode("utf-8")).hexdigest()


def _batch_audit(
    connection: Connection, batch: Any, actor: str, action: str, after: dict[str, Any], address: str | None = None
) -> None:
    audit.record(
        connection,
        actor=actor,
        action=f"payment_batch.{action}",
        target_type="payment_batch",
        target_id=batch.id,
        region_code=batch.region_code,
        after=after,
        address=address,
    )


@dataclass
class Built:
    batch_id: int | None
    lines: int = 0
    total_fen: int = 0
    without_account: list[int] = field(default_factory=list)
    # Approved, with an account, but waiting for the city's review, the end of the 公示 or an objection.
    held: list[int] = field(default_factory=list)


def build_batch(
    connection: Connection, *, fund: str, region: str, payer_bank: str, actor: Actor, today: dt.date | None = None
) -> Built:
    """One batch of every approved claim of ``fund`` in county ``region`` that has a payee account and
    whose gates are open on ``today`` (city review, 公示 period over, no open objection: gates.py)."""
    if fund not in FUNDS:
        raise PaymentError(f"资金 {fund!r} 不存在；可用的有：{'、'.join(f'{k}（{v}）' for k, v in FUNDS.items())}")
    if not payer_bank.strip():
        raise PaymentError("请写明付款银行")
    approved = list(
        connection.execute(
            select(CLAIMS, gates.batchable(today or dt.date.today()).label("batchable"))
            .where(CLAIMS.c.status == "approved", CLAIMS.c.fund == fund, CLAIMS.c.region_code == region)
            .order_by(CLAIMS.c.id)
        )
    )
    ready = [c for c in approved if c.payee_account_cipher and c.batchable]
    built = Built(None, without_account=[c.id for c in approved if not c.payee_account_cipher])
    built.held = [c.id for c in approved if c.payee_account_cipher and not c.batchable]
    if not ready:
        return built
    at = now()
    batch_id = int(
        connection.execute(
            insert(BATCHES)
            .values(
                fund=fund,
                region_code=region,
                payer_bank=payer_bank.strip(),
                status="built",
                maker=actor.name,
                created_at=at,
            )
            .returning(BATCHES.c.id)
        ).scalar_one()
    )
    built.batch_id = batch_id
    # One conditional UPDATE per 50,000 claims: an objection recorded meanwhile holds the claim's row,
    # which the update then leaves.
    moved = transition_many(
        connection,
        ready,
        actor=actor.name,
        from_status="approved",
        to_status="batched",
        reason=lambda claim: f"列入支付批次 {batch_id}",
        also=gates.batchable(today or dt.date.today()),
    )
    if len(moved) != len(ready):
        # As ``transition`` would: the whole build is refused, nothing of the batch is left.
        stray = "、".join(str(i) for i in sorted({c.id for c in ready} - {c.id for c in moved})[:20])
        raise PaymentError(f"申报 {stray} 已被他人同时处理（状态已变或有新的公示异议），本次未生成批次，请重新生成")
    reissued = dict(
        connection.execute(
            select(PAYMENTS.c.claim_id, func.max(PAYMENTS.c.id))
            .join(CLAIMS, CLAIMS.c.id == PAYMENTS.c.claim_id)
            .where(
                PAYMENTS.c.status == "reissued",
                CLAIMS.c.status == "batched",
                CLAIMS.c.fund == fund,
                CLAIMS.c.region_code == region,
            )
            .group_by(PAYMENTS.c.claim_id)
        ).all()
    )
    rows = [
        {
            "batch_id": batch_id,
            "claim_id": claim.id,
            "reference": f"BF{batch_id:08d}{number:06d}",
            "amount_fen": claim.amount_fen,
            "payee_name": claim.payee_name or "",
            "payee_account_cipher": claim.payee_account_cipher,
            "payee_account_hmac": claim.payee_account_hmac,
            "payee_account_tail": claim.payee_account_tail,
            "payee_bank": claim.payee_bank,
            "status": "pending",
            "reissue_of": reissued.get(claim.id),
        }
        for number, claim in enumerate(moved, start=1)
    ]
    insert_dicts(connection, PAYMENTS, rows)
    built.lines = len(rows)
    built.total_fen = sum(c.amount_fen for c in moved)
    stall("build")
    batch = _batch(connection, batch_id)
    _batch_audit(connection, batch, actor.name, "build", {"lines": built.lines, "total_fen": built.total_fen})
    return built


def approve_batch(connection: Connection, batch_id: int, actor: Actor) -> str:
    """Approve a built batch (not by its maker): its lines' hash is stored; returns the hash."""
    batch = _batch(connection, batch_id)
    if batch.maker == actor.name:
        raise PaymentError(f"支付批次 {batch_id} 由 {actor.name} 生成，须由另一名工作人员批准（经办与审批分离）")
    if batch.status != "built":
        raise PaymentError(f"支付批次 {batch_id} 当前为“{BATCH_LABELS[batch.status]}”，只有“已生成”的批次可以批准")
    digest = content_hash(batch, _lines(connection, batch_id))
    changed = connection.execute(
        update(BATCHES)
        .where(BATCHES.c.id == batch_id, BATCHES.c.status == "built", BATCHES.c.maker != actor.name)
        .values(status="approved", content_hash=digest, approver=actor.name, approved_at=now())
    ).rowcount
    if changed != 1:
        raise PaymentError(f"支付批次 {batch_id} 已被他人同时处理，本次批准未生效")
    _batch_audit(connection, batch, actor.name, "approve", {"content_hash": digest})
    return digest


def export_batch(
    connection: Connection,
    batch_id: int,
    path: Path,
    actor: Actor,
    *,
    cipher: AccountCipher | None = None,
    layout: str = "csv",
    address: str | None = None,
) -> int:
    """Write the bank file of an approved batch (``layout`` csv or xlsx); refused when its lines
    changed since approval.

    The one place account numbers are decrypted (ADR 0035): the file holds them in full, so each
    export is on the audit log. Exporting again writes the same file (the same references): the bank
    matches them, so nothing is paid twice."""
    accounts = account_cipher(cipher)
    batch = _batch(connection, batch_id)
    if batch.status not in ("approved", "exported"):
        raise PaymentError(f"支付批次 {batch_id} 当前为“{BATCH_LABELS[batch.status]}”，批准后才能导出银行文件")
    lines = _lines(connection, batch_id)
    if content_hash(batch, lines) != batch.content_hash:
        raise PaymentError(f"支付批次 {batch_id} 在批准后已被改动，不生成银行文件：请核查后重新生成并批准批次")
    memo = dict(
        connection.execute(
            select(CLAIMS.c.id, CLAIMS.c.benefit_id)
            .join(PAYMENTS, PAYMENTS.c.claim_id == CLAIMS.c.id)
            .where(PAYMENTS.c.batch_id == batch_id)
        ).all()
    )
    rows = [
        {
            "reference": p.reference,
            "payee_name": p.payee_name,
            "payee_account": _opened(accounts, p),
            "payee_bank": p.payee_bank,
            "amount_fen": p.amount_fen,
            "fund_label": FUNDS[batch.fund],
            "memo": f"申报{p.claim_id} {memo[p.claim_id]}",
        }
        for p in lines
    ]
    content = bank_files.bank_file_xlsx(rows) if layout == "xlsx" else bank_files.bank_file_text(rows).encode("utf-8")
    try:
        bank_files.write_atomically(path, content)
    except OSError as exc:
        raise PaymentError(f"无法写入银行文件 {path}：{exc.strerror}") from exc
    connection.execute(
        update(BATCHES)
        .where(BATCHES.c.id == batch_id)
        .values(status="exported" if batch.status == "approved" else batch.status, exported_at=now())
    )
    stall("export")
    _batch_audit(
        connection,
        batch,
        actor.name,
        "export",
        {
            "file": path.name,
            "layout": layout,
            "sha256": hashlib.sha256(content).hexdigest(),
            "lines": len(lines),
            "total_fen": sum(p.amount_fen for p in lines),
            "unmasked_accounts": len(lines),
        },
        address,
    )
    return len(lines)


def _opened(accounts: AccountCipher, line: Any) -> str:
    try:
        account = accounts.open(line.payee_account_cipher)
    except AccountKeyError as exc:
        raise PaymentError(f"支付 {line.reference} 的收款账号无法解密，未生成银行文件：{exc}") from None
    if accounts.lookup(account) != line.payee_account_hmac:
        raise PaymentError(f"支付 {line.reference} 的收款账号与其校验值不符（数据被改动），未生成银行文件")
    return account


@dataclass
class Imported:
    applied: dict[str, int] = field(default_factory=lambda: {"paid": 0, "failed": 0, "reversed": 0})
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)


# What a return line may change: (status now, result) → status after.
_MOVES = {("pending", "paid"): "paid", ("pending", "failed"): "failed", ("paid", "reversed"): "reversed"}


def _update_payments(connection: Connection, rows: list[dict[str, Any]], values: tuple[str, ...], guard: Any) -> int:
    """Set ``values`` of many payment lines in one ``UPDATE … FROM`` a temporary table of ``rows``
    (each ``payment_id``, ``seen`` status and the new values); ``guard(table)`` adds conditions.
    Returns the number of lines changed."""
    if not rows:
        return 0
    table = Table(
        "payment_updates",
        MetaData(),
        Column("payment_id", BigInteger, primary_key=True),
        Column("seen", String(16)),
        *(Column(name, PAYMENTS.c[name].type) for name in values),
        prefixes=["TEMPORARY"],
    )
    # Created in this transaction: a failure rolls it back with everything else (no DROP in an aborted one).
    table.create(connection)
    insert_dicts(connection, table, rows)
    changed = connection.execute(
        update(PAYMENTS)
        .where(PAYMENTS.c.id == table.c.payment_id, PAYMENTS.c.status == table.c.seen, guard(table))
        .values({name: table.c[name] for name in values})
    ).rowcount
    table.drop(connection)
    return int(changed)


def import_return(
    connection: Connection, path: Path, actor: Actor, *, within: Scope | None = None, address: str | None = None
) -> Imported:
    """Record the bank's result per reference. A line that says what is already recorded is unchanged,
    so importing the same file twice changes nothing; contradictions are listed, not applied.
    Set-based: the lines are read in chunks of references and written by one ``UPDATE … FROM``.

    ``within``: only batches of counties in this scope (a page's account); a reference of another
    county reads as unknown, so a return file cannot touch, or tell of, another county's payments."""
    lines = bank_files.read_return_file(path)
    report = Imported()
    known: dict[str, Any] = {}
    references = list({line.reference for line in lines})
    for first in range(0, len(references), CHUNK):
        chunk = references[first : first + CHUNK]
        query = select(
            PAYMENTS.c.id, PAYMENTS.c.reference, PAYMENTS.c.batch_id, PAYMENTS.c.status, PAYMENTS.c.amount_fen
        ).where(id_in(connection, PAYMENTS.c.reference, chunk))
        if within is not None:
            query = query.join(BATCHES, BATCHES.c.id == PAYMENTS.c.batch_id).where(within.places(BATCHES.c.region_code))
        for payment in connection.execute(query):
            known[payment.reference] = payment
    touched: set[int] = set()
    changes: dict[int, dict[str, Any]] = {}
    returned_at = now()
    for line in lines:
        found = known.get(line.reference)
        where = f"第 {line.line} 行（{line.reference}）"
        if found is None:
            report.problems.append(f"{where}：没有这个支付流水号{'（或不在您的地区范围内）' if within else ''}，未处理")
            continue
        payment = found
        if payment.amount_fen != line.amount_fen:
            report.problems.append(
                f"{where}：回单金额 {format_yuan(line.amount_fen)} 与发出的 {format_yuan(payment.amount_fen)} 不符，"
                "未处理；请向银行核实"
            )
            continue
        seen = changes[payment.id]["status"] if payment.id in changes else payment.status
        if seen == line.result or (seen == "reissued" and line.result == "failed"):
            report.unchanged += 1
            continue
        after = _MOVES.get((seen, line.result))
        if after is None:
            report.problems.append(
                f"{where}：已记录为“{PAYMENT_LABELS[seen]}”，回单为“{PAYMENT_LABELS[line.result]}”，"
                "两者矛盾，未处理；请向银行核实"
            )
            continue
        # A line paid then reversed in one file moves twice; the table holds its last state.
        changes[payment.id] = {
            "payment_id": payment.id,
            "seen": changes[payment.id]["seen"] if payment.id in changes else payment.status,
            "status": after,
            "bank_status": line.result,
            "bank_message": line.message,
            "bank_date": line.date,
            "returned_at": returned_at,
        }
        report.applied[after] += 1
        touched.add(payment.batch_id)
    changed = _update_payments(
        connection,
        list(changes.values()),
        ("status", "bank_status", "bank_message", "bank_date", "returned_at"),
        lambda table: PAYMENTS.c.id.is_not(None),
    )
    if changed != len(changes):
        raise PaymentError("回单涉及的支付正由另一次导入处理，本次导入未生效，请稍后再导入")
    stall("import_return")
    if touched:
        still_pending = select(PAYMENTS.c.batch_id).where(PAYMENTS.c.status == "pending")
        connection.execute(
            update(BATCHES)
            .where(
                BATCHES.c.id.in_(sorted(touched)), BATCHES.c.status == "exported", BATCHES.c.id.not_in(still_pending)
            )
            .values(status="returned")
        )
        audit.record(
            connection,
            actor=actor.name,
            action="payment_batch.import_return",
            target_type="payment_batch",
            target_id=",".join(str(b) for b in sorted(touched))[:64],
            after={"file": path.name, "applied": report.applied, "unchanged": report.unchanged},
            address=address,
        )
    return report


@dataclass
class Reconciled:
    paid: int = 0
    failed: int = 0
    reversed: int = 0


def _to_ledger(
    connection: Connection, status: str, column: str, sign: int, actor: Actor, only: list[Any] | None = None
) -> int:
    """Lines in ``status`` whose ``column`` is empty: one ledger entry each (bulk insert), linked by
    one ``UPDATE … FROM`` that only fills an empty link (a concurrent reconcile that linked first makes
    this one fail whole, its entries rolled back), then their claims moved with events and audit."""
    lines = connection.execute(
        select(
            CLAIMS.c.id,
            CLAIMS.c.region_code,
            CLAIMS.c.person_id,
            CLAIMS.c.org_id,
            CLAIMS.c.benefit_id,
            CLAIMS.c.event_date,
            CLAIMS.c.units,
            PAYMENTS.c.id.label("payment_id"),
            PAYMENTS.c.reference,
            PAYMENTS.c.amount_fen,
            PAYMENTS.c.bank_message,
        )
        .join(CLAIMS, CLAIMS.c.id == PAYMENTS.c.claim_id)
        .where(PAYMENTS.c.status == status, PAYMENTS.c[column].is_(None), *(only or []))
        .order_by(PAYMENTS.c.id)
    ).all()
    if not lines:
        return 0
    word = "支付" if sign > 0 else "退汇冲回"
    rows = [
        {
            "person_id": line.person_id,
            "org_id": line.org_id,
            "benefit_id": line.benefit_id,
            "date": line.event_date,
            "amount_fen": sign * line.amount_fen,
            "units": None if line.units is None else sign * line.units,
            "source": f"{word} {line.reference}（申报 {line.id}）",
        }
        for line in lines
    ]
    entries: list[int] = []
    if connection.dialect.name == "postgresql":
        # Ids drawn from the table's sequence (safe beside any other writer), then one COPY.
        entries = list(
            connection.scalars(
                select(func.nextval(func.pg_get_serial_sequence(LEDGER.name, "id"))).select_from(
                    func.generate_series(1, len(rows))
                )
            )
        )
        insert_dicts(connection, LEDGER, [{"id": entry, **row} for entry, row in zip(entries, rows, strict=True)])
    else:
        for first in range(0, len(rows), CHUNK):
            entries += connection.execute(
                insert(LEDGER).returning(LEDGER.c.id, sort_by_parameter_order=True), rows[first : first + CHUNK]
            ).scalars().all()  # fmt: skip
    entry_of = {line.id: entry for line, entry in zip(lines, entries, strict=True)}
    linked = _update_payments(
        connection,
        [{"payment_id": line.payment_id, "seen": status, column: entry_of[line.id]} for line in lines],
        (column,),
        lambda table: PAYMENTS.c[column].is_(None),
    )
    if linked != len(lines):
        raise PaymentError("部分支付正由另一次对账处理，本次对账未生效，请稍后再运行")
    if sign > 0:
        moved = transition_many(
            connection,
            lines,
            actor=actor.name,
            from_status="batched",
            to_status="paid",
            reason=lambda line: f"银行回单：{line.reference} 支付成功",
            details=lambda line: {"ledger_entry": entry_of[line.id]},
        )
    else:
        moved = transition_many(
            connection,
            lines,
            actor=actor.name,
            from_status="paid",
            to_status="failed",
            reason=lambda line: f"银行退汇：{line.reference}（{line.bank_message or '未说明原因'}），已冲回已享受记录",
            details=lambda line: {"ledger_entry": entry_of[line.id]},
        )
    if len(moved) != len(lines):
        stray = sorted({line.id for line in lines} - {c.id for c in moved})[:20]
        raise PaymentError(f"申报 {'、'.join(map(str, stray))} 的状态与银行回单不符，本次对账未生效，请核查")
    return len(lines)


def reconcile(connection: Connection, actor: Actor, *, batch_id: int | None = None) -> Reconciled:
    """Bring claims and the ledger in line with the returns: a paid line writes the ledger entry the
    engine reads (so the benefit is never granted again), a failed one fails its claim, a reversal
    writes the negative entry. Only lines not yet reconciled are touched; every step is set-based; with
    ``batch_id``, only that batch's (what a county's page reconciles: its own batch, never another's)."""
    done = Reconciled()
    only = [] if batch_id is None else [PAYMENTS.c.batch_id == batch_id]
    done.paid = _to_ledger(connection, "paid", "ledger_entry_id", 1, actor, only)
    stall("reconcile")
    failed = connection.execute(
        select(CLAIMS.c.id, CLAIMS.c.region_code, PAYMENTS.c.reference, PAYMENTS.c.bank_message)
        .join(CLAIMS, CLAIMS.c.id == PAYMENTS.c.claim_id)
        .where(PAYMENTS.c.status == "failed", CLAIMS.c.status == "batched", *only)
    ).all()
    done.failed = len(
        transition_many(
            connection,
            failed,
            actor=actor.name,
            from_status="batched",
            to_status="failed",
            reason=lambda line: f"银行回单：{line.reference} 支付失败（{line.bank_message or '未说明原因'}）",
        )
    )
    done.reversed = _to_ledger(connection, "reversed", "reversal_entry_id", -1, actor, only)
    open_batches = select(PAYMENTS.c.batch_id).where(PAYMENTS.c.status == "pending")
    only_batch = [] if batch_id is None else [BATCHES.c.id == batch_id]
    connection.execute(
        update(BATCHES)
        .where(BATCHES.c.status == "returned", BATCHES.c.id.not_in(open_batches), *only_batch)
        .values(status="reconciled")
    )
    if done.paid or done.failed or done.reversed:
        audit.record(
            connection,
            actor=actor.name,
            action="payment.reconcile",
            target_type="payment" if batch_id is None else "payment_batch",
            target_id=batch_id,
            after={"paid": done.paid, "failed": done.failed, "reversed": done.reversed},
        )
    return done


def reissue(
    connection: Connection,
    claim_id: int,
    payee: Payee,
    actor: Actor,
    reason: str,
    *,
    cipher: AccountCipher | None = None,
) -> None:
    """A failed claim to a corrected account: its failed line is marked re-issued and the claim is
    approved again (as approved before) for the next batch."""
    claim = claim_row(connection, claim_id)
    if claim.status != "failed":
        raise PaymentError(f"申报 {claim_id} 不是“支付失败”状态，不需要重新支付")
    account = valid_account(payee.account)
    connection.execute(
        update(PAYMENTS)
        .where(PAYMENTS.c.claim_id == claim_id, PAYMENTS.c.status.in_(("failed", "reversed")))
        .values(status="reissued")
    )
    transition(
        connection,
        claim_id,
        actor=actor.name,
        allowed_from=("failed",),
        to_status="approved",
        reason=f"改为新账户重新支付：{reason.strip() or '账户更正'}",
        values=payee_values(payee, cipher),
        details={"payee_account": masked_account(account)},
    )


def batch_summary(connection: Connection, batch_id: int) -> dict[str, Any]:
    batch = _batch(connection, batch_id)
    counts: dict[str, int] = dict(
        connection.execute(
            select(PAYMENTS.c.status, func.count()).where(PAYMENTS.c.batch_id == batch_id).group_by(PAYMENTS.c.status)
        ).all()
    )
    return {
        "id": batch.id,
        "fund": FUNDS.get(batch.fund, batch.fund),
        "county": name_of(batch.region_code) or batch.region_code,
        "payer_bank": batch.payer_bank,
        "status": BATCH_LABELS[batch.status],
        "lines": json.loads(json.dumps(counts)),
    }
