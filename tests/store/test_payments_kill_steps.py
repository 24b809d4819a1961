"""Every batch step killed with SIGKILL inside its transaction, then run again, on SQLite and PostgreSQL:
build, export (while the file is written, and after), import of the return and reconcile. After each
kill nothing is changed; after the rerun every line is applied once; a rerun after that changes
nothing; at the end each paid claim has exactly one ledger entry and the audit chain verifies.

The step is stopped where it has written but not committed by ``BANGFU_TEST_STALL`` (kill_points.py);
on PostgreSQL the test also sees its backend holding a transaction id (uncommitted writes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from claims_support import CHECKER, bulk_approved_claims, return_file
from sqlalchemy import Engine, func, select, text

from bangfu.audit import log as audit
from bangfu.claims import payments
from bangfu.claims.payments import BATCHES, PAYMENTS
from bangfu.claims.records import CLAIMS, EVENTS
from bangfu.store.db import make_engine
from bangfu.store.tables import BenefitLedgerEntry

LINES = 120
FAILED = 7  # the bank fails the first lines


def _cli(url: str, *args: str, stall: str | None = None, marker: Path | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "BANGFU_DATABASE_URL": url}
    if stall is not None:
        environment |= {"BANGFU_TEST_STALL": stall, "BANGFU_TEST_STALL_FILE": str(marker)}
    return subprocess.Popen(
        [sys.executable, "-m", "bangfu", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(url: str, *args: str) -> str:
    process = _cli(url, *args)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def _kill_inside(url: str, engine: Engine, tmp_path: Path, step: str, *args: str) -> None:
    """Run the command, SIGKILL it once it has written inside its transaction, wait for the rollback."""
    marker = tmp_path / f"stalled-{step}"
    process = _cli(url, *args, stall=step, marker=marker)
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert marker.exists(), f"{step} never reached its kill point: {process.communicate(timeout=10)}"
        if engine.dialect.name == "postgresql":
            with engine.connect() as watcher:
                writing = watcher.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                    )
                )
            assert writing == (0 if step == "export_file" else 1), "the step must hold uncommitted writes"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert process.returncode == -signal.SIGKILL
    # The server (or SQLite's journal, on the next open) rolls the killed transaction back.
    deadline = time.monotonic() + 10
    while engine.dialect.name == "postgresql" and time.monotonic() < deadline:
        with engine.connect() as connection:
            if not connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ):
                break
        time.sleep(0.1)


def _state(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return {
            "claims": dict(connection.execute(select(CLAIMS.c.status, func.count()).group_by(CLAIMS.c.status)).all()),
            "payments": sorted(
                connection.execute(
                    select(PAYMENTS.c.id, PAYMENTS.c.status, PAYMENTS.c.ledger_entry_id, PAYMENTS.c.returned_at)
                ).all()
            ),
            "batches": sorted(connection.execute(select(BATCHES.c.id, BATCHES.c.status)).all()),
            "ledger": connection.scalar(select(func.count()).select_from(BenefitLedgerEntry)),
            "events": connection.scalar(select(func.count()).select_from(EVENTS)),
            "audit": audit.verify(connection).entries,
        }


@pytest.mark.slow
def test_each_batch_step_killed_inside_its_transaction_then_run_again_applies_once(
    fresh_database: str, tmp_path: Path
) -> None:
    url = fresh_database
    engine = make_engine(url)
    try:
        claims = bulk_approved_claims(engine, LINES)
        build = ("payments", "build", "--fund", "revitalization", "--county", "141123", "--payer-bank", "兴县农商银行")

        # Build: killed → no batch, every claim still approved; rerun → one batch of every claim; again → none.
        before = _state(engine)
        _kill_inside(url, engine, tmp_path, "build", *build)
        assert _state(engine) == before
        assert f"{LINES:,} 笔" in _run(url, *build)
        assert "没有可生成批次的已批准申报" in _run(url, *build)
        with engine.connect() as connection:
            batch_ids = connection.execute(select(BATCHES.c.id)).scalars().all()
            lines = connection.execute(select(PAYMENTS.c.claim_id, PAYMENTS.c.reference).order_by(PAYMENTS.c.id)).all()
        assert len(batch_ids) == 1 and sorted(c for c, _ in lines) == claims
        batch = batch_ids[0]
        with engine.begin() as connection:
            payments.approve_batch(connection, batch, CHECKER)

        # Export: killed while writing the file → no file; killed after writing, before commit → the batch is
        # still approved; rerun → the same complete file, the batch exported.
        out = tmp_path / "bank.csv"
        export = ("payments", "export", str(batch), "--out", str(out))
        _kill_inside(url, engine, tmp_path, "export_file", *export)
        assert not out.exists()
        assert (tmp_path / "bank.csv.partial").exists()  # the half that was never renamed into place
        approved = _state(engine)
        _kill_inside(url, engine, tmp_path, "export", *export)
        assert _state(engine) == approved
        first = out.read_bytes()
        assert f"{LINES:,} 笔" in _run(url, *export)
        assert out.read_bytes() == first and first.decode("utf-8-sig").count("\r\n") == LINES + 1
        assert _state(engine)["batches"] == [(batch, "exported")]

        # Import of the return: killed → nothing recorded; rerun → each line once; the same file again → nothing.
        returned = return_file(
            tmp_path, [(ref, "失败" if n < FAILED else "成功", 1_500) for n, (_, ref) in enumerate(lines)]
        )
        exported = _state(engine)
        _kill_inside(url, engine, tmp_path, "import_return", "payments", "import-return", str(returned))
        assert _state(engine) == exported
        said = _run(url, "payments", "import-return", str(returned))
        assert f"成功 {LINES - FAILED:,} 笔，失败 {FAILED} 笔" in said and "此前已记录 0 笔" in said
        imported = _state(engine)
        again = _run(url, "payments", "import-return", str(returned))
        assert f"成功 0 笔，失败 0 笔，退汇 0 笔，此前已记录 {LINES:,} 笔" in again
        assert _state(engine) == imported

        # Reconcile: killed → no ledger entry; rerun → one per paid line; again → none.
        _kill_inside(url, engine, tmp_path, "reconcile", "payments", "reconcile")
        assert _state(engine) == imported
        said = _run(url, "payments", "reconcile")
        assert f"写入已享受记录 {LINES - FAILED:,} 笔，支付失败 {FAILED} 笔" in said
        reconciled = _state(engine)
        assert "写入已享受记录 0 笔，支付失败 0 笔，退汇冲回 0 笔" in _run(url, "payments", "reconcile")
        assert _state(engine) == reconciled

        assert reconciled["claims"] == {"paid": LINES - FAILED, "failed": FAILED}
        assert reconciled["batches"] == [(batch, "reconciled")]
        with engine.connect() as connection:
            per_claim = connection.execute(
                select(PAYMENTS.c.claim_id, func.count(BenefitLedgerEntry.id))
                .join(BenefitLedgerEntry, BenefitLedgerEntry.id == PAYMENTS.c.ledger_entry_id)
                .group_by(PAYMENTS.c.claim_id)
            ).all()
            assert audit.verify(connection).ok
        assert len(per_claim) == reconciled["ledger"] == LINES - FAILED and {n for _, n in per_claim} == {1}
    finally:
        engine.dispose()
