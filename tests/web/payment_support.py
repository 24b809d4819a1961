"""The web tests' registry with approved claims ready for a payment batch, and a second county account
to approve what the first builds (maker-checker)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import select
from web_support import XIAODIAN, XING, Placed, add_accounts, build_registry

from bangfu.claims import decisions
from bangfu.claims.decisions import Actor
from bangfu.claims.drafting import Payee, draft_claim
from bangfu.claims.payments import PAYMENTS
from bangfu.policy.policy_set import PolicySet
from bangfu.store.db import make_engine

DAY = dt.date(2024, 6, 30)
CHECKER = "county_xing_checker"
# Full account numbers: a page or API answer must never show one of these.
ACCOUNTS = {
    "xing_a": "6217000010001234567",
    "xing_b": "6217000010009876543",
    "xing_none": "6217000010005550001",
    "xiaodian": "6217000010007770002",
}
HOSTILE_NAME = '=HYPERLINK("http://x","点此")'
PAYEES = {"xing_a": "王甲", "xing_b": HOSTILE_NAME, "xing_none": "王丙", "xiaodian": "王丁"}
RETURN_HEADER = "支付流水号,处理结果,金额（分）,银行说明,处理日期"


def payment_registry(url: str) -> dict[str, Placed]:
    """``web_support``'s registry, a second county account of 兴县, and an approved transport-subsidy claim
    (800 yuan) with a payee account for each person of ``ACCOUNTS`` (the one of xing_b named hostilely)."""
    persons, _ = build_registry(url)
    add_accounts(url, [(CHECKER, "county", XING), ("county_xiaodian_checker", "county", XIAODIAN)])
    policies = PolicySet.bundled()
    engine = make_engine(url)
    maker, checker = Actor("tests_maker"), Actor("tests_checker", may_override=True)
    try:
        for key, account in ACCOUNTS.items():
            with engine.begin() as connection:
                claim_id = draft_claim(
                    connection,
                    policies,
                    entity="person",
                    key=persons[key].id,
                    benefit_id="transport_cross_province",
                    day=DAY,
                    actor=maker.name,
                )
                decisions.check_claim(connection, policies, claim_id, maker)
                decisions.approve(connection, claim_id, checker, override="测试：核实无误")
                name = PAYEES[key]
                decisions.set_payee(connection, claim_id, maker, Payee(name, account, "兴县农商银行"))
    finally:
        engine.dispose()
    return persons


def references(url: str, batch_id: int) -> list[tuple[str, int]]:
    """(reference, amount in fen) of each line of the batch."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(PAYMENTS.c.reference, PAYMENTS.c.amount_fen)
                .where(PAYMENTS.c.batch_id == batch_id)
                .order_by(PAYMENTS.c.id)
            ).all()
    finally:
        engine.dispose()
    return [(r.reference, r.amount_fen) for r in rows]


def return_csv(lines: Iterable[tuple[str, str, int]], header: str = RETURN_HEADER) -> bytes:
    said = {"失败": "账户已销户"}
    rows = [header] + [f"{ref},{result},{fen},{said.get(result, '入账')},2024-07-05" for ref, result, fen in lines]
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8")


def return_xlsx(lines: Iterable[tuple[str, str, int]]) -> bytes:
    """The same return as an XLSX a bank's tool writes: amounts as numbers, the date as a date cell."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(RETURN_HEADER.split(","))
    for ref, result, fen in lines:
        sheet.append([ref, result, fen, "入账", dt.date(2024, 7, 5)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
