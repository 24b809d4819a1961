"""Payment batches on SQLite and PostgreSQL: the bank file, the return imported twice, reconciliation
into the ledger the engine reads, re-issue, and refusals (a batch changed after approval, a second
open payment of one claim)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from claims_support import (
    CHECKER,
    CIPHER,
    DAY,
    MAKER,
    OTHER,
    POLICIES,
    add_person,
    approved_claim,
    claim_status,
    draft,
    exported_batch,
    return_file,
)
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from bangfu.claims import decisions, payments
from bangfu.claims.drafting import Payee, evaluated
from bangfu.claims.payments import PAYMENTS, PaymentError
from bangfu.claims.records import ClaimError
from bangfu.store.tables import BenefitLedgerEntry

LEDGER = BenefitLedgerEntry.__table__


def lines_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def payment(engine: Engine, claim_id: int) -> dict[str, object]:
    with engine.connect() as connection:
        row = connection.execute(
            select(PAYMENTS).where(PAYMENTS.c.claim_id == claim_id).order_by(PAYMENTS.c.id.desc()).limit(1)
        ).one()
        return dict(row._mapping)


def ledger_of(engine: Engine, person: int) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(LEDGER.c.benefit_id, LEDGER.c.amount_fen).where(LEDGER.c.person_id == person).order_by(LEDGER.c.id)
        )
        return [(r.benefit_id, r.amount_fen) for r in rows]


def test_paid_once_and_the_engine_then_no_longer_grants_the_repeat(module_database: Engine, tmp_path: Path) -> None:
    county = "141122"
    person = add_person(module_database, county=county)
    claim_id = approved_claim(module_database, person)
    with module_database.begin() as connection:  # a hostile payee name stays text in the file
        decisions.set_payee(connection, claim_id, MAKER, Payee('=HYPERLINK("http://x","点此")', "6217000010001234567"))
    batch_id, path = exported_batch(module_database, county, tmp_path)
    header, line = lines_of(path)
    reference = payment(module_database, claim_id)["reference"]
    assert header[:6] == ["支付流水号", "收款人", "收款账号", "收款银行", "金额（元）", "金额（分）"]
    assert line[:6] == [reference, '\'=HYPERLINK("http://x","点此")', "6217000010001234567", "", "800.00", "80000"]

    returned = return_file(tmp_path, [(str(reference), "成功", 80_000)])
    with module_database.begin() as connection:
        first = payments.import_return(connection, returned, OTHER)
    with module_database.begin() as connection:
        second = payments.import_return(connection, returned, OTHER)
    assert (first.applied["paid"], first.unchanged) == (1, 0)
    assert (second.applied, second.unchanged, second.problems) == ({"paid": 0, "failed": 0, "reversed": 0}, 1, [])

    with module_database.begin() as connection:
        done = payments.reconcile(connection, OTHER)
    with module_database.begin() as connection:
        again = payments.reconcile(connection, OTHER)
        summary = payments.batch_summary(connection, batch_id)
    assert (done.paid, again.paid) == (1, 0)
    assert ledger_of(module_database, person) == [("transport_cross_province", 80_000)]
    assert claim_status(module_database, claim_id) == "paid" and summary["status"] == "已对账"

    with module_database.connect() as connection:
        _, answer = evaluated(connection, POLICIES, "person", person, DAY)
    transport = next(b for b in answer["benefits"] if b["id"] == "transport_cross_province")
    assert transport["status"] == "excluded" and "本年度已享受过" in "".join(transport["reasons"])
    with pytest.raises(ClaimError, match="已排除"):
        draft(module_database, person, actor="another_maker")


def test_a_bank_file_is_never_written_for_a_batch_changed_after_approval(
    module_database: Engine, tmp_path: Path
) -> None:
    county = "141125"
    claim_id = approved_claim(module_database, add_person(module_database, county=county))
    with module_database.begin() as connection:
        built = payments.build_batch(
            connection, fund="revitalization", region=county, payer_bank="农商银行", actor=MAKER
        )
    assert built.batch_id is not None and built.lines == 1
    with pytest.raises(PaymentError, match="须由另一名工作人员批准"), module_database.begin() as connection:
        payments.approve_batch(connection, built.batch_id, MAKER)
    forged = CIPHER.seal("6222999988887777")
    with module_database.begin() as connection:
        payments.approve_batch(connection, built.batch_id, CHECKER)
        # Another account's ciphertext alone: its number does not have the line's keyed hash.
        connection.execute(
            update(PAYMENTS).where(PAYMENTS.c.claim_id == claim_id).values(payee_account_cipher=forged.cipher)
        )
    path = tmp_path / "bank.csv"
    with pytest.raises(PaymentError, match="与其校验值不符"), module_database.begin() as connection:
        payments.export_batch(connection, built.batch_id, path, OTHER)
    with module_database.begin() as connection:  # and with its hash: the batch's content changed
        connection.execute(
            update(PAYMENTS).where(PAYMENTS.c.claim_id == claim_id).values(payee_account_hmac=forged.hmac)
        )
    with pytest.raises(PaymentError, match="批准后已被改动，不生成银行文件"), module_database.begin() as connection:
        payments.export_batch(connection, built.batch_id, path, OTHER)
    assert not path.exists()


def test_a_claim_never_has_two_open_payments(module_database: Engine, tmp_path: Path) -> None:
    county = "141126"
    claim_id = approved_claim(module_database, add_person(module_database, county=county))
    batch_id, _ = exported_batch(module_database, county, tmp_path)
    with module_database.begin() as connection:  # building again finds nothing left to pay
        assert (
            payments.build_batch(connection, fund="revitalization", region=county, payer_bank="x", actor=MAKER).lines
            == 0
        )
    with pytest.raises(IntegrityError), module_database.begin() as connection:
        connection.execute(
            insert(PAYMENTS).values(
                batch_id=batch_id,
                claim_id=claim_id,
                reference="BF-FORGED",
                amount_fen=80_000,
                payee_name="李四",
                payee_account_cipher=CIPHER.seal("6217000010001234567").cipher,
                payee_account_hmac=CIPHER.lookup("6217000010001234567"),
                payee_account_tail="4567",
                status="pending",
            )
        )


def test_a_failed_line_is_reissued_to_a_corrected_account_and_paid_once(
    module_database: Engine, tmp_path: Path
) -> None:
    county = "141128"
    person = add_person(module_database, county=county)
    claim_id = approved_claim(module_database, person)
    _, _ = exported_batch(module_database, county, tmp_path)
    failed_ref = str(payment(module_database, claim_id)["reference"])
    with module_database.begin() as connection:
        payments.import_return(connection, return_file(tmp_path, [(failed_ref, "失败", 80_000)]), OTHER)
        assert payments.reconcile(connection, OTHER).failed == 1
    assert claim_status(module_database, claim_id) == "failed" and ledger_of(module_database, person) == []
    with module_database.begin() as connection:
        payments.reissue(connection, claim_id, Payee("李四", "6228480012345678"), MAKER, "原账户已销户")
    _, _ = exported_batch(module_database, county, tmp_path)
    second = payment(module_database, claim_id)
    assert second["reference"] != failed_ref and CIPHER.open(str(second["payee_account_cipher"])) == "6228480012345678"
    with module_database.begin() as connection:
        old = connection.execute(
            select(PAYMENTS.c.status, PAYMENTS.c.id).where(PAYMENTS.c.reference == failed_ref)
        ).one()
        assert old.status == "reissued" and second["reissue_of"] == old.id
        paid = return_file(
            tmp_path, [(str(second["reference"]), "成功", 80_000), (failed_ref, "失败", 80_000)], "r2.csv"
        )
        report = payments.import_return(connection, paid, OTHER)
        assert (report.applied["paid"], report.unchanged) == (1, 1)
        payments.reconcile(connection, OTHER)
    assert ledger_of(module_database, person) == [("transport_cross_province", 80_000)]
    assert claim_status(module_database, claim_id) == "paid"


def test_a_reversal_writes_the_negative_entry(module_database: Engine, tmp_path: Path) -> None:
    county = "141129"
    person = add_person(module_database, county=county)
    claim_id = approved_claim(module_database, person)
    exported_batch(module_database, county, tmp_path)
    ref = str(payment(module_database, claim_id)["reference"])
    with module_database.begin() as connection:
        payments.import_return(connection, return_file(tmp_path, [(ref, "成功", 80_000)]), OTHER)
        payments.reconcile(connection, OTHER)
        report = payments.import_return(connection, return_file(tmp_path, [(ref, "退汇", 80_000)], "r3.csv"), OTHER)
        assert report.applied["reversed"] == 1
        assert payments.reconcile(connection, OTHER).reversed == 1
        bad = payments.import_return(
            connection, return_file(tmp_path, [("BF404", "成功", 1), (ref, "成功", 80_000)], "r4.csv"), OTHER
        )
    assert bad.problems == [
        "第 2 行（BF404）：没有这个支付流水号，未处理",
        f"第 3 行（{ref}）：已记录为“已退汇”，回单为“支付成功”，两者矛盾，未处理；请向银行核实",
    ]
    assert ledger_of(module_database, person) == [
        ("transport_cross_province", 80_000),
        ("transport_cross_province", -80_000),
    ]
    assert claim_status(module_database, claim_id) == "failed"
