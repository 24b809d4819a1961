"""A batch step killed with SIGKILL in the middle of its transaction, then run again: every paid line
has exactly one ledger entry, none twice, nothing lost (PostgreSQL, where "in the middle" can be
seen: the step's backend has written rows it has not committed)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from claims_support import CIPHER, add_person
from sqlalchemy import func, insert, select, text

from bangfu.claims.payments import BATCHES, PAYMENTS
from bangfu.claims.records import CLAIMS
from bangfu.store.db import make_engine
from bangfu.store.tables import BenefitLedgerEntry
from database_servers import migrate, postgres_database

LINES = 300
SEALED = CIPHER.seal("6217000010001234567")


@pytest.mark.slow
def test_reconcile_killed_midway_then_run_again_pays_the_ledger_once(tmp_path: Path) -> None:
    databases = postgres_database()
    url = next(databases)
    try:
        migrate(url)
        engine = make_engine(url)
        try:
            person = add_person(engine)
            now = dt.datetime.now(dt.UTC)
            with engine.begin() as connection:
                batch = connection.execute(
                    insert(BATCHES)
                    .values(fund="revitalization", region_code="141123", payer_bank="农商银行", status="returned",
                            maker="a", approver="b", created_at=now)
                    .returning(BATCHES.c.id)
                ).scalar_one()  # fmt: skip
                claim = {
                    "beneficiary_kind": "person", "person_id": person, "region_code": "141123",
                    "document_id": "shanxi-2021", "benefit_id": "training_living_allowance", "fund": "revitalization",
                    "repeat_per": "course_day", "event_date": dt.date(2024, 4, 1), "decided_on": dt.date(2024, 6, 30),
                    "amount_fen": 1_500, "units": 1, "explanation": "{}", "parameters": "[]", "flagged": False,
                    "status": "batched", "maker": "a", "approver": "b", "created_at": now, "updated_at": now,
                }  # fmt: skip
                ids = connection.execute(
                    insert(CLAIMS).returning(CLAIMS.c.id, sort_by_parameter_order=True),
                    [{**claim, "money_key": f"k{n}"} for n in range(LINES)],
                ).scalars().all()  # fmt: skip
                connection.execute(
                    insert(PAYMENTS),
                    [
                        {"batch_id": batch, "claim_id": c, "reference": f"BFK{n:08d}", "amount_fen": 1_500,
                         "payee_name": "李四", "payee_account_cipher": SEALED.cipher,
                         "payee_account_hmac": SEALED.hmac, "payee_account_tail": SEALED.tail, "status": "paid"}
                        for n, c in enumerate(ids)
                    ],
                )  # fmt: skip
            marker = tmp_path / "stalled"
            command = [sys.executable, "-m", "bangfu", "payments", "reconcile"]
            environment = {**os.environ, "BANGFU_DATABASE_URL": url}
            # Set-based, 300 lines reconcile in milliseconds: the kill point (kill_points.py) holds it there.
            stalled = {**environment, "BANGFU_TEST_STALL": "reconcile", "BANGFU_TEST_STALL_FILE": str(marker)}
            process = subprocess.Popen(command, env=stalled, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            writing = False
            deadline = time.monotonic() + 120
            with engine.connect() as watcher:
                while time.monotonic() < deadline and process.poll() is None:
                    # The step's backend holds a transaction id once it has written its first row.
                    writing = bool(
                        watcher.scalar(
                            text(
                                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                            )
                        )
                    )
                    watcher.rollback()
                    if writing:
                        break
                    time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            assert writing, "the reconcile must be killed inside its transaction for this test to mean anything"
            time.sleep(0.5)  # the server notices the closed connection and rolls back
            with engine.connect() as connection:
                assert connection.scalar(select(func.count()).select_from(BenefitLedgerEntry)) == 0
            finished = subprocess.run(
                command, env=environment, capture_output=True, text=True, timeout=300, check=False
            )
            assert finished.returncode == 0, finished.stderr
            again = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)
            assert "写入已享受记录 0 笔" in again.stdout
            with engine.connect() as connection:
                entries = connection.scalar(select(func.count()).select_from(BenefitLedgerEntry))
                linked = connection.scalar(
                    select(func.count(func.distinct(PAYMENTS.c.ledger_entry_id))).where(PAYMENTS.c.status == "paid")
                )
                paid_claims = connection.scalar(select(func.count()).where(CLAIMS.c.status == "paid"))
            assert entries == linked == paid_claims == LINES
        finally:
            engine.dispose()
    finally:
        databases.close()
