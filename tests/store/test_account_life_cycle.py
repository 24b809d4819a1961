"""An account's life after creation, on SQLite and PostgreSQL: disabling, passwords reset and changed,
sessions and tokens revoked, the second factor, who administers whom, and what the database refuses."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pyotp
import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from bangfu.accounts import passwords, second_factor
from bangfu.accounts.administration import administered, administered_account, may_administer
from bangfu.accounts.demo import demo_refusal, demo_usernames
from bangfu.accounts.devices import known_device, remember_device
from bangfu.accounts.life_cycle import (
    change_own_password,
    reset_second_factor,
    revoke_tokens,
    set_active,
    set_password,
)
from bangfu.accounts.sessions import LoginFailed, authenticate, open_session, resolve_token
from bangfu.accounts.sign_in_steps import token_refusal
from bangfu.accounts.users import Account, AccountError, add_user, find_account
from bangfu.audit.log import record
from bangfu.store.counts import registry_counts
from bangfu.store.tables import AuditEntry, AuditHead, Household, ImportBatch, SignInDevice, User
from totp_codes import Codes

PASSWORD = "兴县就业帮扶工作2024"
NEW = "另一个足够长的新口令啊呀"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def db(session: Session) -> Iterator[Session]:
    if session.scalar(select(func.count()).select_from(AuditHead)) == 0:
        session.execute(insert(AuditHead).values(id=1, last_id=0, last_hash="0" * 64))
    yield session


def add(db: Session, username: str, role: str = "county", region: str = "141123", **extra: object) -> Account:
    return add_user(db, username=username, role=role, region_code=region, password=PASSWORD, **extra)  # type: ignore[arg-type]


def actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_disable_ends_sessions_and_sign_in_and_enable_restores_sign_in(db: Session) -> None:
    account = add(db, "zhang.san")
    page = open_session(db, account, "page")
    api = open_session(db, account, "api")
    set_active(db, "zhang.san", False, actor="cli:admin")
    assert resolve_token(db, page.token, "page") is None and resolve_token(db, api.token, "api") is None
    with pytest.raises(LoginFailed):
        authenticate(db, "zhang.san", PASSWORD, "10.0.0.1")
    with pytest.raises(AccountError, match="已经是停用状态"):
        set_active(db, "zhang.san", False)
    set_active(db, "zhang.san", True, actor="cli:admin")
    assert authenticate(db, "zhang.san", PASSWORD, "10.0.0.1").active
    assert resolve_token(db, page.token, "page") is None  # enabling does not bring old sessions back
    assert actions(db)[-4:-1] == ["user.disable", "auth.login_failed", "user.enable"]


def test_temporary_reset_forces_a_change_and_revokes_everything(db: Session) -> None:
    account = add(db, "zhang.san")
    other = add(db, "li.si")
    page = open_session(db, account, "page")
    now = dt.datetime.now(dt.UTC)
    device = remember_device(db, account.id, None, now)
    remember_device(db, other.id, None, now)
    assert known_device(db, device, account.id, now) is not None
    reset = set_password(db, "zhang.san", "临时口令要足够长才行啊呀", temporary=True, actor="cli:admin")
    assert reset.must_change_password and resolve_token(db, page.token, "page") is None
    # A browser that knew the old password is a stranger again; other accounts' devices stay.
    assert known_device(db, device, account.id, now) is None
    assert db.scalar(select(func.count()).select_from(SignInDevice)) == 1
    audited = db.scalars(select(AuditEntry.after).where(AuditEntry.action == "user.set_password")).all()
    assert json.loads(audited[-1] or "{}")["devices_forgotten"] == 1
    signed_in = authenticate(db, "zhang.san", "临时口令要足够长才行啊呀", "10.0.0.1")
    assert signed_in.must_change_password
    refusal = token_refusal(db, signed_in, "", "10.0.0.1")
    assert refusal is not None and refusal[0] == 403 and "/login" in refusal[1]
    own = open_session(db, signed_in, "page")
    other = open_session(db, signed_in, "page")
    keep = resolve_token(db, own.token, "page")
    assert keep is not None
    for old, new, repeated, reason in [
        ("错的口令口令口令口令", NEW, NEW, "当前口令不对"),
        ("临时口令要足够长才行啊呀", NEW, NEW + "x", "两次输入的新口令不一致"),
        ("临时口令要足够长才行啊呀", "临时口令要足够长才行啊呀", "临时口令要足够长才行啊呀", "不能与当前口令相同"),
        ("临时口令要足够长才行啊呀", "woaini1314520", "woaini1314520", "最常见的口令"),
    ]:
        with pytest.raises(AccountError, match=reason):
            change_own_password(db, account.id, old, new, repeated, keep_session_id=keep.session_id)
    changed = change_own_password(db, account.id, "临时口令要足够长才行啊呀", NEW, NEW, keep_session_id=keep.session_id)
    assert not changed.must_change_password
    assert resolve_token(db, own.token, "page") is not None  # the session that changed it stays
    assert resolve_token(db, other.token, "page") is None
    assert "user.change_password" in actions(db)


def test_revoke_tokens_ends_every_session_and_token(db: Session) -> None:
    account = add(db, "zhang.san")
    kinds = ("page", "api", "api")
    tokens = [open_session(db, account, kind).token for kind in kinds]
    assert revoke_tokens(db, "zhang.san", actor="cli:admin") == 3
    assert all(resolve_token(db, token, kind) is None for token, kind in zip(tokens, kinds, strict=True))
    [entry] = db.scalars(select(AuditEntry).where(AuditEntry.action == "user.revoke_tokens"))
    assert json.loads(entry.after or "") == {"username": "zhang.san", "sessions_revoked": 3}
    with pytest.raises(AccountError, match="没有用户名为“nobody”的账户"):
        revoke_tokens(db, "nobody")


def test_second_factor_enrolment_pending_token_and_reset(db: Session) -> None:
    account = add(db, "zhang.san", can_unmask=True)
    secret = second_factor.new_secret()
    with pytest.raises(AccountError, match="验证码不对"):
        second_factor.enrol(db, account.id, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    codes = Codes(secret)
    enrolled = second_factor.enrol(db, account.id, secret, codes.next())
    assert enrolled.second_factor
    signed_in = authenticate(db, "zhang.san", PASSWORD, "10.0.0.1")
    assert token_refusal(db, signed_in, "", "10.0.0.1") is not None
    assert token_refusal(db, signed_in, "12345x", "10.0.0.1") is not None
    assert token_refusal(db, signed_in, codes.again(), "10.0.0.1") is not None  # the enrolment's code
    assert token_refusal(db, signed_in, codes.next(), "10.0.0.1") is None
    assert token_refusal(db, signed_in, codes.again(), "10.0.0.1") is not None  # good once
    pending = second_factor.pending_token(db, signed_in)
    user = second_factor.pending_user(db, pending)
    assert user is not None and user.id == account.id
    assert second_factor.pending_user(db, pending[:-1] + ("0" if pending[-1] != "0" else "1")) is None
    later = dt.datetime.now(dt.UTC) + second_factor.PENDING_LIFETIME + dt.timedelta(seconds=1)
    assert second_factor.pending_user(db, pending, now=later) is None
    failed = second_factor.failures_since(db, "zhang.san", second_factor.pending_since(pending))
    assert not second_factor.check_code(
        db, user, "999999" if pyotp.TOTP(secret).now() != "999999" else "888888", "10.0.0.1"
    )
    assert second_factor.failures_since(db, "zhang.san", second_factor.pending_since(pending)) == failed + 1
    reset_second_factor(db, "zhang.san", actor="cli:admin")
    assert second_factor.pending_user(db, pending) is None  # the reset ends the half-signed-in state too
    assert find_account(db, "zhang.san") == Account(
        account.id, "zhang.san", "zhang.san", "county", "141123", True, True
    )


def test_the_database_itself_refuses_an_auditor_who_unmasks(db: Session) -> None:
    auditor = add(db, "shen.ji", role="auditor", region="1411")
    with pytest.raises((IntegrityError, DBAPIError)), db.begin_nested():
        db.execute(update(User).where(User.id == auditor.id).values(can_unmask=True))
    with pytest.raises((IntegrityError, DBAPIError)), db.begin_nested():
        db.execute(
            insert(User).values(
                username="x.y",
                display_name="x",
                role="auditor",
                region_code="14",
                password_hash="h",
                can_unmask=True,
                active=True,
            )
        )


def test_administration_follows_role_and_region(db: Session) -> None:
    made = {name: add(db, name, role, region) for name, role, region in [
        ("sheng", "province", "14"), ("lvliang", "city", "1411"), ("taiyuan", "city", "1401"),
        ("xing", "county", "141123"), ("xing2", "county", "141123"), ("lin", "county", "141124"),
        ("town", "township", "141123100"), ("audit", "auditor", "1411"),
    ]}  # fmt: skip
    reach = {admin: {a.username for a in administered(db, made[admin])} for admin in made}
    assert reach["sheng"] >= set(made) - {"sheng"}
    assert reach["lvliang"] == {"xing", "xing2", "lin", "town"}
    assert reach["xing"] == {"xing2", "town"}
    assert reach["town"] == reach["audit"] == set()
    assert administered_account(db, made["xing"], made["xing"].id) is None  # never itself
    assert administered_account(db, made["xing"], made["lin"].id) is None
    assert administered_account(db, made["xing"], made["lvliang"].id) is None
    assert not may_administer(made["lvliang"], "auditor", "1411")
    assert may_administer(made["sheng"], "auditor", "1411")


def test_demo_refuses_real_accounts_imports_and_data_it_did_not_load(db: Session) -> None:
    connection = db.connection()
    # Whatever the registry holds now counts as the demo's own synthetic load ...
    record(db, actor="tests", action="synth.load", after={"rows": registry_counts(connection)})
    add_user(db, username="sheng", role="province", region_code="14", password=passwords.DEMO_PASSWORD,
             is_demo=True)  # fmt: skip
    db.flush()
    assert demo_refusal(connection) is None
    assert demo_usernames(connection) == ["sheng"]
    # ... and one household more is data the demo did not load.
    db.add(Household(household_number="REAL-1", region_code="141123", address="真实的户"))
    db.flush()
    assert "登记库中的户多于演示载入的合成数据" in (demo_refusal(connection) or "")
    db.add(ImportBatch(kind="people", file_name="a.csv", sha256="0" * 64, started_at=dt.datetime.now(dt.UTC)))
    db.flush()
    assert "导入过的登记文件" in (demo_refusal(connection) or "")
    add(db, "zhang.san")
    db.flush()
    assert "非演示账户（如 zhang.san）" in (demo_refusal(connection) or "")
