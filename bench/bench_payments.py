"""Payment batches at scale on PostgreSQL (issue 12, ADR 0038): build, approve and export a batch of
--lines approved claims, import its return and reconcile it, and approve --approvals checked claims
in one action; each step as the CLI runs it (its own transaction, committed), timed.

A fresh database (``bangfu_bench_payments_<pid>`` on --server) is migrated and filled in bulk, not
through the monthly run: one person, --lines approved claims with payee accounts of one county and
--approvals checked ones (not timed). The return file says 成功 for every line but --failed. The
database is dropped at the end unless --keep.

Usage:
  .venv/bin/python bench/bench_payments.py --lines 100000 --approvals 1000 --json-out bench/out/payments.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bangfu.audit import log as audit
from bangfu.claims import budgets, decisions, payments
from bangfu.claims.decisions import Actor
from bangfu.claims.drafting import Payee, payee_values
from bangfu.claims.records import CLAIMS
from bangfu.core.citizen_id import check_digit
from bangfu.store.db import make_engine
from bangfu.store.tables import BenefitLedgerEntry, Person
from fresh_databases import migrate
from provenance import code_version, machine

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
COUNTY = "141123"
TARGETS = {"build_export_s": 30.0, "import_reconcile_s": 30.0, "approve_s": 5.0}
MAKER, CHECKER, OTHER = Actor("bench_maker"), Actor("bench_checker"), Actor("bench_other")


def _fill(engine: Any, lines: int, approvals: int) -> None:
    first17 = f"{COUNTY}19800101001"
    at = dt.datetime.now(dt.UTC)
    with Session(engine) as session, session.begin():
        row = Person(id_number=first17 + check_digit(first17), name="李四", hukou_region=COUNTY)
        session.add(row)
        session.flush()
        person = row.id
    with engine.begin() as connection:
        claim = {
            "beneficiary_kind": "person", "person_id": person, "region_code": COUNTY, "document_id": "shanxi-2021",
            "benefit_id": "training_living_allowance", "fund": "revitalization", "repeat_per": "course_day",
            "event_date": dt.date(2024, 4, 1), "decided_on": dt.date(2024, 6, 30), "amount_fen": 1_500,
            "units": 1, "explanation": "{}", "parameters": "[]", "flagged": False, "maker": MAKER.name,
            "created_at": at, "updated_at": at, "payee_name": "李四", "payee_bank": "兴县农商银行",
        }  # fmt: skip
        rows = [
            {**claim, "status": "approved", "approver": CHECKER.name, "money_key": f"bench-{n}",
             **payee_values(Payee("李四", f"62170000{n:011d}", "兴县农商银行"))}
            for n in range(lines)
        ] + [
            {**claim, "status": "checked", "money_key": f"bench-checked-{n}", **payee_values(None)}
            for n in range(approvals)
        ]  # fmt: skip
        for first in range(0, len(rows), 10_000):
            connection.execute(insert(CLAIMS), rows[first : first + 10_000])
        # Approvals need a budget of the county, fund and year with enough left (ADR 0035).
        budgets.set_budget(
            connection, region=COUNTY, fund="revitalization", year=2024, amount_fen=10**12,
            scope=budgets.Scope("bench", "province", "14"),
        )  # fmt: skip


def _timed(figures: dict[str, float], name: str, work: Any) -> Any:
    started = time.perf_counter()
    result = work()
    figures[name] = round(time.perf_counter() - started, 3)
    print(f"{name}: {figures[name]} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--approvals", type=int, default=1_000)
    parser.add_argument("--failed", type=int, default=100)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    name = f"bangfu_bench_payments_{os.getpid()}"
    admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    figures: dict[str, float] = {}
    try:
        migrate(url)
        engine = make_engine(url)
        started = time.perf_counter()
        _fill(engine, args.lines, args.approvals)
        took = time.perf_counter() - started
        print(f"filled {args.lines:,} approved + {args.approvals:,} checked claims in {took:.1f} s")
        folder = Path(tempfile.mkdtemp(prefix="bench-payments-"))

        def step(work: Any) -> Any:
            with engine.begin() as connection:
                return work(connection)

        built = _timed(
            figures,
            "build_s",
            lambda: step(
                lambda c: payments.build_batch(c, fund="revitalization", region=COUNTY, payer_bank="兴县农商银行",
                                               actor=MAKER)
            ),
        )  # fmt: skip
        assert built.lines == args.lines, built
        _timed(figures, "approve_batch_s", lambda: step(lambda c: payments.approve_batch(c, built.batch_id, CHECKER)))
        bank = folder / "bank.csv"
        _timed(figures, "export_s", lambda: step(lambda c: payments.export_batch(c, built.batch_id, bank, OTHER)))
        figures["build_export_s"] = round(figures["build_s"] + figures["approve_batch_s"] + figures["export_s"], 3)
        references = [line.split(",", 1)[0] for line in bank.read_text(encoding="utf-8-sig").splitlines()[1:]]
        returned = folder / "return.csv"
        rows = ["支付流水号,处理结果,金额（分）,银行说明,处理日期"] + [
            f"{ref},{'失败' if n < args.failed else '成功'},1500,入账,2024-07-05" for n, ref in enumerate(references)
        ]
        returned.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
        imported = _timed(figures, "import_s", lambda: step(lambda c: payments.import_return(c, returned, OTHER)))
        assert imported.applied["paid"] == args.lines - args.failed, imported
        done = _timed(figures, "reconcile_s", lambda: step(lambda c: payments.reconcile(c, OTHER)))
        assert done.paid == args.lines - args.failed and done.failed == args.failed, done
        figures["import_reconcile_s"] = round(figures["import_s"] + figures["reconcile_s"], 3)
        again = _timed(figures, "reconcile_again_s", lambda: step(lambda c: payments.reconcile(c, OTHER)))
        assert again.paid == again.failed == 0
        with engine.connect() as connection:
            checked = list(connection.execute(select(CLAIMS.c.id).where(CLAIMS.c.status == "checked")).scalars())
        approved = _timed(figures, "approve_s", lambda: step(lambda c: decisions.approve_many(c, checked, CHECKER)))
        assert approved == args.approvals
        with engine.connect() as connection:
            ledger = connection.scalar(select(func.count()).select_from(BenefitLedgerEntry))
            assert ledger == args.lines - args.failed, ledger
            verified = _timed(figures, "audit_verify_s", lambda: audit.verify(connection))
            assert verified.ok, verified.problems
        engine.dispose()
    finally:
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    result = {
        "lines": args.lines,
        "approvals": args.approvals,
        "figures": figures,
        "targets": TARGETS,
        "met": {k: figures[k] <= v for k, v in TARGETS.items()},
        "load_average": os.getloadavg(),
        "code": code_version(),
        "machine": machine(),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
