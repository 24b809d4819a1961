"""``bangfu budgets`` and ``bangfu ledger prove`` on SQLite and PostgreSQL (ADR 0035): budgets set by
the command line within scope, and the proof that payments, the ledger and budgets agree — which
names every planted difference and exits 1."""

from __future__ import annotations

import json
from pathlib import Path

from claims_support import CHECKER, DAY, MAKER, OTHER, POLICIES, add_person, draft, invoke, return_file, said
from sqlalchemy import Engine, insert, select, update

from bangfu.claims import decisions, payments
from bangfu.claims.drafting import LEDGER, Payee
from bangfu.claims.payments import PAYMENTS
from bangfu.store.db import make_engine
from bangfu.store.tables import User

COUNTY = "141123"


def paid_and_reversed(engine: Engine, folder: Path) -> tuple[int, int]:
    """Two claims of 800 yuan paid; the second reversed by the bank. Returns the two claim ids."""
    ids = []
    for account in ("6217000010001234567", "6217000010007654321"):
        claim_id = draft(engine, add_person(engine, budget=False))
        with engine.begin() as connection:
            decisions.check_claim(connection, POLICIES, claim_id, MAKER)
            decisions.approve(connection, claim_id, CHECKER)
            decisions.set_payee(connection, claim_id, MAKER, Payee("李四", account))
        ids.append(claim_id)
    with engine.begin() as connection:
        built = payments.build_batch(connection, fund="revitalization", region=COUNTY, payer_bank="农商行", actor=MAKER)
        assert built.batch_id is not None
        payments.approve_batch(connection, built.batch_id, CHECKER)
        payments.export_batch(connection, built.batch_id, folder / "bank.csv", OTHER)
        refs = list(connection.scalars(select(PAYMENTS.c.reference).order_by(PAYMENTS.c.id)))
    paid = return_file(folder, [(refs[0], "成功", 80_000), (refs[1], "成功", 80_000)])
    with engine.begin() as connection:
        payments.import_return(connection, paid, OTHER)
    return ids[0], ids[1]


def test_budgets_from_the_command_line_and_the_ledger_proof(fresh_database: str, tmp_path: Path) -> None:
    url = fresh_database
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(User),
                [
                    {"username": name, "display_name": name, "role": role, "region_code": region, "password_hash": "-"}
                    for name, role, region in (
                        ("lvliang_finance", "city", "1411"),
                        ("taiyuan_finance", "city", "1401"),
                        ("xing_checker", "county", COUNTY),
                    )
                ],
            )
        setting = ("budgets", "set", "--county", COUNTY, "--fund", "revitalization", "--year", "2024")
        for extra, message in (
            (("--amount-yuan", "5000"), "须用 --as 指明省级或市级账户"),
            (("--amount-yuan", "5000", "--as", "xing_checker"), "只有省级或市级账户可以设定"),
            (("--amount-yuan", "5000", "--as", "taiyuan_finance"), "只有省级账户或该县所属市的市级账户可以设定"),
            (("--amount-yuan", "50.005", "--as", "lvliang_finance"), "最多两位小数"),
        ):
            refused = invoke(*setting, *extra, "--database", url)
            assert refused.exit_code == 2 and said(refused, message), refused.output
        done = invoke(*setting, "--amount-yuan", "5000", "--as", "lvliang_finance", "--database", url)
        assert done.exit_code == 0 and said(done, "5,000.00 元"), done.output

        first, second = paid_and_reversed(engine, tmp_path)
        unreconciled = invoke("ledger", "prove", "--database", url)
        assert unreconciled.exit_code == 1 and said(unreconciled, "2 笔银行已回单尚未对账"), unreconciled.output
        with engine.begin() as connection:
            payments.reconcile(connection, OTHER)
            reference = connection.scalar(select(PAYMENTS.c.reference).where(PAYMENTS.c.claim_id == second))
            payments.import_return(connection, return_file(tmp_path, [(reference, "退汇", 80_000)], "back.csv"), OTHER)
            assert payments.reconcile(connection, OTHER).reversed == 1

        proved = invoke("ledger", "prove", "--json", "--database", url)
        assert proved.exit_code == 0, proved.output
        proof = json.loads(proved.output)
        assert proof["holds"] is True and proof["unlinked_ledger_entries"] == []
        assert [(p["year"], p["fund"], p["county"], p["payments_fen"], p["ledger_fen"], p["budget_paid_fen"])
                for p in proof["lines"]] == [(2024, "revitalization", COUNTY, 80_000, 80_000, 80_000)]  # fmt: skip
        listed = json.loads(invoke("budgets", "list", "--county", COUNTY, "--json", "--database", url).output)
        # Committed: the paid claim and the reversed one (failed, waiting to be re-issued).
        assert [(b["fund"], b["allocated_fen"], b["committed_fen"], b["paid_fen"], b["remaining_fen"])
                for b in listed] == [("revitalization", 500_000, 160_000, 80_000, 340_000)]  # fmt: skip
        table = invoke("budgets", "list", "--year", "2024", "--database", url)
        assert table.exit_code == 0 and said(table, "3,400.00 元") and said(table, "兴县"), table.output

        # A planted difference: one fen more in the ledger entry of the first payment.
        with engine.begin() as connection:
            entry = connection.scalar(select(PAYMENTS.c.ledger_entry_id).where(PAYMENTS.c.claim_id == first))
            connection.execute(update(LEDGER).where(LEDGER.c.id == entry).values(amount_fen=80_001))
        planted = invoke("ledger", "prove", "--database", url)
        assert planted.exit_code == 1
        for words in ("不一致：2024 年 衔接推进乡村振兴补助资金（revitalization）", "兴县（141123）",
                      "支付（成功减退汇）800.00 元", "已享受记录 800.01 元", "预算已支付 800.00 元"):  # fmt: skip
            assert said(planted, words), planted.output
        # And a ledger entry no payment explains.
        with engine.begin() as connection:
            connection.execute(update(LEDGER).where(LEDGER.c.id == entry).values(amount_fen=80_000))
            person = connection.scalar(select(LEDGER.c.person_id).where(LEDGER.c.id == entry))
            connection.execute(
                insert(LEDGER).values(
                    person_id=person,
                    benefit_id="transport_cross_province",
                    date=DAY,
                    amount_fen=80_000,
                    source="支付 BF99999999000001（申报 999）",
                )
            )
        orphan = invoke("ledger", "prove", "--json", "--database", url)
        assert orphan.exit_code == 1
        found = json.loads(orphan.output)
        assert found["differences"] == [] and [e["source"] for e in found["unlinked_ledger_entries"]] == [
            "支付 BF99999999000001（申报 999）"
        ]
        assert invoke("ledger", "prove", "--year", "2023", "--database", url).exit_code == 0
    finally:
        engine.dispose()
