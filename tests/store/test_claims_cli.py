"""``bangfu claims`` and ``bangfu payments`` end to end on a SQLite file, and a monthly run killed
with SIGKILL midway and run again: every claim exists once, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from claims_support import add_person, invoke, return_file, said
from sqlalchemy import Engine, func, insert, select

from bangfu.claims.payments import PAYMENTS
from bangfu.claims.records import CLAIMS
from bangfu.store.db import make_engine
from bangfu.store.tables import BenefitLedgerEntry, User
from database_servers import migrate

COUNTY = "141123"


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(User),
            [
                {"username": name, "display_name": name, "role": role, "region_code": COUNTY, "password_hash": "-"}
                for name, role in (("xing_checker", "county"), ("xing_cashier", "county"), ("auditor1", "auditor"))
            ],
        )
    return url, engine


def test_claims_and_payments_from_the_command_line(database: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = database
    person = add_person(engine)
    ran = invoke("claims", "run", "--month", "2024-06", "--county", COUNTY, "--database", url)
    assert ran.exit_code == 0, ran.output
    assert "新起草并自动审核的申报：2 笔" in ran.output
    again = invoke("claims", "run", "--month", "2024-06", "--county", COUNTY, "--database", url)
    assert "新起草并自动审核的申报：0 笔；已有申报（同一计发依据）而跳过：2 笔" in again.output
    with engine.connect() as connection:
        transport = connection.scalar(
            select(CLAIMS.c.id).where(CLAIMS.c.person_id == person, CLAIMS.c.benefit_id == "transport_cross_province")
        )
    listed = invoke("claims", "list", "--status", "checked", "--database", url)
    assert "跨省务工一次性交通补贴" in listed.output and "800.00 元" in listed.output

    own = invoke("claims", "approve", str(transport), "--database", url)  # the maker approving their own
    assert own.exit_code == 2 and "审批须由另一名工作人员进行" in own.output
    auditor = invoke("claims", "approve", str(transport), "--as", "auditor1", "--database", url)
    assert auditor.exit_code == 2 and "审计人员只读" in auditor.output
    assert invoke("claims", "approve", str(transport), "--as", "xing_checker", "--database", url).exit_code == 0
    payee = invoke(
        "claims", "payee", str(transport), "--name", "李四", "--account", "6217 0000 1000 1234 567", "--database", url
    )
    assert "****4567" in payee.output

    built = invoke(
        "payments", "build", "--fund", "revitalization", "--county", COUNTY, "--payer-bank", "兴县农商银行",
        "--database", url,
    )  # fmt: skip
    assert "已生成支付批次 1：1 笔，合计 800.00 元" in built.output, built.output
    early = invoke("payments", "export", "1", "--out", str(tmp_path / "bank.csv"), "--database", url)
    assert early.exit_code == 2 and "批准后才能导出银行文件" in early.output
    assert invoke("payments", "approve", "1", "--as", "xing_checker", "--database", url).exit_code == 0
    exported = invoke("payments", "export", "1", "--out", str(tmp_path / "bank.csv"), "--database", url)
    assert exported.exit_code == 0 and (tmp_path / "bank.csv").exists()

    reference = (tmp_path / "bank.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(",")[0]
    returned = return_file(tmp_path, [(reference, "成功", 80_000)])
    first = invoke("payments", "import-return", str(returned), "--as", "xing_cashier", "--database", url)
    second = invoke("payments", "import-return", str(returned), "--as", "xing_cashier", "--database", url)
    assert "成功 1 笔" in first.output and "成功 0 笔，失败 0 笔，退汇 0 笔，此前已记录 1 笔" in second.output
    reconciled = invoke("payments", "reconcile", "--database", url)
    assert "写入已享受记录 1 笔" in reconciled.output
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(BenefitLedgerEntry)) == 1


def test_bad_input_gets_a_chinese_message(database: tuple[str, Engine], tmp_path: Path) -> None:
    url, _ = database
    cases = [
        (("claims", "run", "--month", "2024-13"), "应为 YYYY-MM"),
        (("claims", "run", "--month", "2024-06", "--county", "14x"), "--county 应为 2、4 或 6 位行政区划代码"),
        (("claims", "approve", "abc"), "申报编号应为正整数"),
        (("claims", "approve", "999"), "没有编号为 999 的申报"),
        (("claims", "approve", "1", "--as", "nobody"), "没有用户名为 nobody 的账户"),
        (("claims", "list", "--status", "done"), "--status 应为以下之一"),
        (("claims", "reject", "1", "--reason", " "), "驳回必须写明原因"),
        (("payments", "build", "--fund", "gold", "--county", COUNTY, "--payer-bank", "x"), "资金 'gold' 不存在"),
        (("payments", "import-return", str(tmp_path / "none.csv")), "找不到回单文件"),
        (("payments", "export", "7", "--out", str(tmp_path / "no" / "x.csv")), "不存在"),
        (("payments", "export", "7", "--layout", "pdf", "--out", str(tmp_path / "x.pdf")), "--layout 应为 csv 或 xlsx"),
    ]
    for args, message in cases:
        result = invoke(*args, "--database", url)
        assert result.exit_code == 2, (args, result.output)
        assert said(result, message), (args, result.output)


@pytest.mark.slow
def test_a_monthly_run_killed_midway_then_run_again_drafts_each_claim_once(database: tuple[str, Engine]) -> None:
    url, engine = database
    people = [add_person(engine, county="141124") for _ in range(40)]
    command = [sys.executable, "-m", "bangfu", "claims", "run", "--month", "2024-06", "--county", "141124"]
    environment = {**os.environ, "BANGFU_DATABASE_URL": url}
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Kill it once some, not all, beneficiaries are committed.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            drafted = connection.scalar(select(func.count()).select_from(CLAIMS))
        if drafted and drafted >= 10:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    with engine.connect() as connection:
        killed_at = connection.scalar(select(func.count()).select_from(CLAIMS))
    assert 0 < killed_at < 2 * len(people), "the run must be killed midway for this test to mean anything"
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr
    with engine.connect() as connection:
        per_key = connection.execute(
            select(CLAIMS.c.person_id, CLAIMS.c.benefit_id, func.count()).group_by(
                CLAIMS.c.person_id, CLAIMS.c.benefit_id
            )
        ).all()
        unchecked = connection.scalar(select(func.count()).where(CLAIMS.c.status == "drafted"))
    assert len(per_key) == 2 * len(people) and {n for _, _, n in per_key} == {1}
    # Each beneficiary's drafts and checks are one transaction: nothing was left half done.
    assert unchecked == 0
    assert PAYMENTS is not None
