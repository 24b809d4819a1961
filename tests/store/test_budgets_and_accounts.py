"""Budgets and encrypted payee accounts on SQLite and PostgreSQL (ADR 0035): the database never holds
an account number in the clear, a wrong key is named, an approval past its budget is refused and
changes nothing, two concurrent approvals on PostgreSQL cannot both take the last money."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from alembic import command
from claims_support import (
    CHECKER,
    CIPHER,
    MAKER,
    POLICIES,
    PROVINCE,
    add_person,
    approved_claim,
    claim_status,
    draft,
    exported_batch,
)
from sqlalchemy import Engine, func, select, text

from bangfu.claims import budgets, decisions, payments
from bangfu.claims.budgets import BUDGETS, CHANGES, BudgetError, Scope
from bangfu.claims.decisions import Actor
from bangfu.claims.payments import PAYMENTS, PaymentError
from bangfu.claims.records import CLAIMS, EVENTS, ClaimError
from bangfu.core.account_cipher import AccountCipher, AccountKeyError
from bangfu.settings import Settings, SettingsError
from bangfu.store.db import make_engine
from bangfu.store.migrate import alembic_config, current_revision
from bangfu.store.tables import AuditEntry
from database_servers import migrate, postgres_database

ACCOUNT = "6217000010001234567"
OTHER_KEY = bytes(range(32))


def raw_rows(engine: Engine, table: str) -> str:
    """Every row of ``table`` as the database returns it, as one text."""
    with engine.connect() as connection:
        return repr(connection.execute(text(f"SELECT * FROM {table}")).all())


def checked_claim(engine: Engine, person: int) -> int:
    claim_id = draft(engine, person)
    with engine.begin() as connection:
        assert decisions.check_claim(connection, POLICIES, claim_id, MAKER) is False
    return claim_id


def test_the_database_never_holds_the_account_in_the_clear(module_database: Engine, tmp_path: Path) -> None:
    county = "141121"
    claim_id = approved_claim(module_database, add_person(module_database, county=county), ACCOUNT)
    batch_id, path = exported_batch(module_database, county, tmp_path)
    for table in ("claims", "payments", "audit_log", "claim_events"):
        assert ACCOUNT not in raw_rows(module_database, table), table
    url = module_database.url
    if url.get_backend_name() == "sqlite":
        module_database.dispose()
        assert ACCOUNT.encode() not in Path(str(url.database)).read_bytes()
    with module_database.connect() as connection:
        claim = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()
        line = connection.execute(select(PAYMENTS).where(PAYMENTS.c.claim_id == claim_id)).one()
    assert claim.payee_account_tail == "4567" and claim.payee_account_hmac == CIPHER.lookup(ACCOUNT)
    assert claim.payee_account_cipher.startswith(f"v1:{CIPHER.key_id}:")
    assert CIPHER.open(claim.payee_account_cipher) == ACCOUNT
    # The batch copies the sealed value (built without the key); a fresh nonce per sealing: the same
    # number sealed twice differs, its keyed hash does not.
    assert (line.payee_account_cipher, line.payee_account_hmac) == (
        claim.payee_account_cipher,
        claim.payee_account_hmac,
    )
    assert CIPHER.seal(ACCOUNT).cipher != CIPHER.seal(ACCOUNT).cipher
    assert CIPHER.seal(ACCOUNT).hmac == CIPHER.seal(ACCOUNT.replace("0", "0")).hmac
    assert ACCOUNT in path.read_text(encoding="utf-8-sig")  # only the bank file holds it, and it is audited
    with module_database.connect() as connection:
        exported = connection.scalar(
            select(AuditEntry.after).where(
                AuditEntry.action == "payment_batch.export", AuditEntry.target_id == str(batch_id)
            )
        )
    assert exported is not None and '"unmasked_accounts":1' in exported


def test_a_wrong_key_is_named_and_no_file_is_written(module_database: Engine, tmp_path: Path) -> None:
    county = "141129"
    approved_claim(module_database, add_person(module_database, county=county))
    with module_database.begin() as connection:
        built = payments.build_batch(
            connection, fund="revitalization", region=county, payer_bank="农商银行", actor=MAKER
        )
        assert built.batch_id is not None
        payments.approve_batch(connection, built.batch_id, CHECKER)
    path = tmp_path / "bank.csv"
    wrong = AccountCipher(OTHER_KEY)
    with pytest.raises(PaymentError, match="另一把密钥") as refused, module_database.begin() as connection:
        payments.export_batch(connection, built.batch_id, path, CHECKER, cipher=wrong)
    assert CIPHER.key_id in str(refused.value) and wrong.key_id in str(refused.value)
    assert not path.exists()
    with module_database.connect() as connection:
        token = connection.scalar(select(PAYMENTS.c.payee_account_cipher).where(PAYMENTS.c.batch_id == built.batch_id))
    forged = token.replace(f"v1:{CIPHER.key_id}:", f"v1:{wrong.key_id}:")
    with pytest.raises(AccountKeyError, match="解密失败"):
        wrong.open(forged)


def test_the_key_comes_from_settings_and_production_refuses_none(tmp_path: Path) -> None:
    with pytest.raises(AccountKeyError, match="生产环境未配置账号密钥"):
        Settings.from_env({"BANGFU_ENV": "production"}).account_cipher()
    assert Settings.from_env({}).account_cipher().development
    key_file = tmp_path / "account.key"
    key_file.write_text(OTHER_KEY.hex() + "\n", encoding="ascii")
    from_file = Settings.from_env({"BANGFU_ENV": "production", "BANGFU_ACCOUNT_KEY_FILE": str(key_file)})
    import base64

    from_env = Settings.from_env({"BANGFU_ACCOUNT_KEY": base64.b64encode(OTHER_KEY).decode()})
    assert from_file.account_cipher().key_id == from_env.account_cipher().key_id == AccountCipher(OTHER_KEY).key_id
    assert "account_key" not in repr(from_env) or OTHER_KEY.hex() not in repr(from_env)
    with pytest.raises(SettingsError, match="BANGFU_ACCOUNT_KEY 不是有效的账号密钥"):
        Settings.from_env({"BANGFU_ACCOUNT_KEY": "short"})
    with pytest.raises(SettingsError, match="无法读取"):
        Settings.from_env({"BANGFU_ACCOUNT_KEY_FILE": str(tmp_path / "missing.key")})


def test_an_approval_past_the_budget_is_refused_and_changes_nothing(module_database: Engine) -> None:
    county = "141130"
    first, second = (checked_claim(module_database, add_person(module_database, county, budget=False)) for _ in "ab")
    with module_database.connect() as connection:
        before = connection.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(BudgetError, match="尚未设定预算") as missing, module_database.begin() as connection:
        decisions.approve(connection, first, CHECKER)
    assert "bangfu budgets set" in str(missing.value)
    with module_database.begin() as connection:
        budgets.set_budget(
            connection, region=county, fund="revitalization", year=2024, amount_fen=100_000, scope=PROVINCE
        )
    with module_database.begin() as connection:
        decisions.approve(connection, first, CHECKER)
    with module_database.connect() as connection:
        audited = connection.scalar(select(func.count()).select_from(AuditEntry))
        events = connection.scalar(select(func.count()).where(EVENTS.c.claim_id == second))
    with pytest.raises(BudgetError) as refused, module_database.begin() as connection:
        decisions.approve(connection, second, CHECKER)
    message = str(refused.value)
    for words in ("将超出", "预算 1,000.00 元", "已承诺 800.00 元", "剩余 200.00 元", "800.00 元"):
        assert words in message
    assert claim_status(module_database, second) == "checked"
    with module_database.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(AuditEntry)) == audited > before
        assert connection.scalar(select(func.count()).where(EVENTS.c.claim_id == second)) == events
    # Returning the first frees its money; the second then fits.
    with module_database.begin() as connection:
        decisions.return_for_correction(connection, first, CHECKER, "金额待核")
        decisions.approve(connection, second, CHECKER)
    with module_database.connect() as connection:
        (line,) = budgets.summary(connection, region=county, year=2024)
    assert (line.allocated_fen, line.committed_fen, line.paid_fen, line.remaining_fen) == (100_000, 80_000, 0, 20_000)


def test_budgets_keep_their_history_and_scope(module_database: Engine) -> None:
    county = "141181"
    claim_id = checked_claim(module_database, add_person(module_database, county, budget=False))
    city = Scope("lvliang_finance", "city", "1411")
    with module_database.begin() as connection:
        budget_id = budgets.set_budget(
            connection, region=county, fund="revitalization", year=2024, amount_fen=500_000, scope=city
        )
        decisions.approve(connection, claim_id, CHECKER)
        budgets.set_budget(
            connection,
            region=county,
            fund="revitalization",
            year=2024,
            amount_fen=90_000,
            scope=PROVINCE,
            reason="调减",
        )
    with pytest.raises(BudgetError, match="不能低于已承诺的金额"), module_database.begin() as connection:
        budgets.set_budget(connection, region=county, fund="revitalization", year=2024, amount_fen=79_999, scope=city)
    with pytest.raises(BudgetError, match="只有省级账户或该县所属市"), module_database.begin() as connection:
        budgets.set_budget(
            connection,
            region="140105",
            fund="revitalization",
            year=2024,
            amount_fen=1,
            scope=city,
        )
    for region, fund, year, message in (
        ("1411", "revitalization", 2024, "不是县级"),
        (county, "none", 2024, "不需要预算"),
        (county, "revitalization", 1900, "年度 1900 不合理"),
    ):
        with pytest.raises(BudgetError, match=message), module_database.begin() as connection:
            budgets.set_budget(connection, region=region, fund=fund, year=year, amount_fen=1, scope=PROVINCE)
    with module_database.connect() as connection:
        history = connection.execute(
            select(CHANGES.c.before_fen, CHANGES.c.after_fen, CHANGES.c.actor, CHANGES.c.reason)
            .where(CHANGES.c.budget_id == budget_id)
            .order_by(CHANGES.c.id)
        ).all()
        amount = connection.scalar(select(BUDGETS.c.amount_fen).where(BUDGETS.c.id == budget_id))
    assert [tuple(h) for h in history] == [
        (None, 500_000, "lvliang_finance", None),
        (500_000, 90_000, "province_finance", "调减"),
    ]
    assert amount == 90_000


def test_two_approvals_at_once_cannot_both_take_the_last_money_on_postgresql() -> None:
    """Two real PostgreSQL connections approve two claims of one budget that holds only one of them."""
    databases = postgres_database()
    url = next(databases)
    county = "141182"
    try:
        migrate(url)
        engine = make_engine(url, pool_size=4)
        try:
            claims = [checked_claim(engine, add_person(engine, county, budget=False)) for _ in range(2)]
            with engine.begin() as connection:
                budgets.set_budget(
                    connection, region=county, fund="revitalization", year=2024, amount_fen=80_000, scope=PROVINCE
                )
            barrier = threading.Barrier(2)
            outcomes: dict[int, str] = {}

            def approve(claim_id: int) -> None:
                with engine.connect() as connection:
                    transaction = connection.begin()
                    connection.execute(text("SELECT status FROM claims WHERE id = :i"), {"i": claim_id})
                    barrier.wait()
                    try:
                        decisions.approve(connection, claim_id, Actor("approver_a"))
                        time.sleep(0.5)  # hold the transaction open: the other approval runs meanwhile
                        transaction.commit()
                        outcomes[claim_id] = "approved"
                    except ClaimError as exc:
                        transaction.rollback()
                        outcomes[claim_id] = str(exc)

            threads = [threading.Thread(target=approve, args=(c,)) for c in claims]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert sorted(o == "approved" for o in outcomes.values()) == [False, True]
            loser = next(o for o in outcomes.values() if o != "approved")
            assert "将超出" in loser and "剩余 0.00 元" in loser
            assert sorted(claim_status(engine, c) for c in claims) == ["approved", "checked"]
            with engine.connect() as connection:
                committed = budgets.committed_fen(connection, county, "revitalization", 2024)
            assert committed == 80_000
        finally:
            engine.dispose()
    finally:
        databases.close()


def test_existing_accounts_are_encrypted_by_the_migration(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(fresh_database)
    config = alembic_config(fresh_database)
    try:
        claim_id = approved_claim(engine, add_person(engine, county="141102"))
        exported_batch(engine, "141102", tmp_path)
        engine.dispose()
        command.downgrade(config, "0013")  # back to plain account numbers, decrypted
        assert ACCOUNT in raw_rows(engine, "claims") and ACCOUNT in raw_rows(engine, "payments")
        monkeypatch.setenv("BANGFU_ENV", "production")
        monkeypatch.delenv("BANGFU_ACCOUNT_KEY", raising=False)
        monkeypatch.delenv("BANGFU_ACCOUNT_KEY_FILE", raising=False)
        with pytest.raises(RuntimeError, match="2 个明文收款账号需要加密，但生产环境未配置账号密钥"):
            command.upgrade(config, "head")
        engine.dispose()
        with engine.connect() as connection:
            assert current_revision(connection) == "0013"
        assert ACCOUNT in raw_rows(engine, "claims")
        monkeypatch.setenv("BANGFU_ACCOUNT_KEY", OTHER_KEY.hex())
        command.upgrade(config, "head")
        engine.dispose()
        assert ACCOUNT not in raw_rows(engine, "claims") and ACCOUNT not in raw_rows(engine, "payments")
        with engine.connect() as connection:
            tokens = connection.execute(
                select(CLAIMS.c.payee_account_cipher).union_all(select(PAYMENTS.c.payee_account_cipher))
            ).scalars()
            assert {AccountCipher(OTHER_KEY).open(t) for t in tokens} == {ACCOUNT}
            assert connection.scalar(select(CLAIMS.c.payee_account_tail).where(CLAIMS.c.id == claim_id)) == "4567"
        again = tmp_path / "again.csv"  # the batch exports again with the new key
        with engine.begin() as connection:
            batch_id = connection.scalar(select(PAYMENTS.c.batch_id).where(PAYMENTS.c.claim_id == claim_id))
            payments.export_batch(connection, batch_id, again, CHECKER, cipher=AccountCipher(OTHER_KEY))
        assert ACCOUNT in again.read_text(encoding="utf-8-sig")
    finally:
        engine.dispose()


def test_rotating_the_key_reseals_every_account_and_keeps_approved_batches_exportable(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bangfu.cli import app

    engine = make_engine(fresh_database)
    try:
        county = "141124"
        claim_id = approved_claim(engine, add_person(engine, county=county))
        with engine.begin() as connection:
            built = payments.build_batch(
                connection, fund="revitalization", region=county, payer_bank="农商行", actor=MAKER
            )
            assert built.batch_id is not None
            payments.approve_batch(connection, built.batch_id, CHECKER)
        monkeypatch.setenv("BANGFU_ACCOUNT_KEY", OTHER_KEY.hex())
        wrong_old = tmp_path / "old.key"
        wrong_old.write_text(bytes(32).hex(), encoding="ascii")
        rotate = ("keys", "rotate-accounts", "--database", fresh_database)
        refused = CliRunner().invoke(app, [*rotate, "--old-key-file", str(wrong_old)])
        assert refused.exit_code == 2 and "无法用旧密钥解密，未轮换任何数据" in refused.output, refused.output
        with engine.connect() as connection:
            assert CIPHER.open(connection.scalar(select(CLAIMS.c.payee_account_cipher))) == ACCOUNT
        done = CliRunner().invoke(app, [*rotate, "--from-development-key", "--as", "province_admin"])
        assert done.exit_code == 0 and "申报 1 笔，支付 1 笔，已批准批次重算校验 1 个" in done.output, done.output
        new = AccountCipher(OTHER_KEY)
        with engine.connect() as connection:
            claim = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()
        assert new.open(claim.payee_account_cipher) == ACCOUNT and claim.payee_account_hmac == new.lookup(ACCOUNT)
        path = tmp_path / "bank.csv"
        with pytest.raises(PaymentError, match="另一把密钥"), engine.begin() as connection:
            payments.export_batch(connection, built.batch_id, path, CHECKER, cipher=CIPHER)
        with engine.begin() as connection:
            payments.export_batch(connection, built.batch_id, path, CHECKER, cipher=new)
        assert ACCOUNT in path.read_text(encoding="utf-8-sig")
    finally:
        engine.dispose()
