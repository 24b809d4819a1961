"""Accounts, sign-in with throttling, and session tokens, on SQLite and PostgreSQL.

Hashing uses argon2-cffi's cheapest parameters here (a production verification costs about half a
second on a small machine); one test checks the production hasher itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from bangfu.accounts import passwords, sessions
from bangfu.accounts.devices import MAX_DEVICES_PER_ACCOUNT, remember_device
from bangfu.accounts.life_cycle import set_password
from bangfu.accounts.passwords import check_password_strength, hash_password, needs_rehash, verify_password
from bangfu.accounts.sessions import (
    LoginFailed,
    LoginThrottled,
    authenticate,
    open_session,
    resolve_token,
    revoke,
)
from bangfu.accounts.users import (
    Account,
    AccountError,
    add_user,
    find_account,
    get_account,
    list_accounts,
)
from bangfu.store.tables import AuditEntry, AuditHead, AuthSession, LoginAttempt, SignInDevice, User

PASSWORD = "兴县就业帮扶工作2024"
T = dt.datetime(2024, 6, 30, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def db(session: Session) -> Iterator[Session]:
    """The rolled-back test session, with the audit chain's head row present.

    The shared ``registry`` fixture empties every table but regions, audit_head included; the head
    row is put back inside this test's transaction (and rolled back with it).
    """
    if session.scalar(select(func.count()).select_from(AuditHead)) == 0:
        session.execute(insert(AuditHead).values(id=1, last_id=0, last_hash="0" * 64))
    yield session


def add(db: Session, username: str = "zhang.san", **overrides: object) -> Account:
    values: dict[str, object] = {"role": "county", "region_code": "141123", "password": PASSWORD}
    values.update(overrides)
    return add_user(db, username=username, **values)  # type: ignore[arg-type]


def audit_rows(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def counts(db: Session) -> tuple[int, int]:
    users = db.scalar(select(func.count()).select_from(User))
    entries = db.scalar(select(func.count()).select_from(AuditEntry))
    return users or 0, entries or 0


# --- passwords -------------------------------------------------------------------------------------


def test_production_hasher_is_argon2id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher())
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not needs_rehash(stored)


def test_verify_rejects_wrong_password_and_malformed_hashes() -> None:
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")
    for malformed in ("", "not-a-hash", "$argon2id$v=19$m=8,t=1,p=1$broken", "$2b$12$" + "a" * 53):
        assert verify_password(malformed, PASSWORD) is False


def test_needs_rehash_when_parameters_change() -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weaker)
    assert not needs_rehash(hash_password(PASSWORD))
    assert needs_rehash("garbage")


def test_each_hash_is_salted() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


@pytest.mark.parametrize(
    ("plain", "username", "reason"),
    [
        ("short1", None, "至少需要 12 个字符，现在只有 6 个"),
        ("", None, "现在只有 0 个"),
        ("13812345678901", None, "不能全是数字"),
        ("Zhang.San.2024", "zhang.san.2024", "不能与用户名相同"),
        ("我是zhang.san的口令", "zhang.san", "包含用户名"),
        ("aaaaaaaaaaaaaaa", None, "一两个字符反复"),
        ("bangfu-demo-2024", "zhang.san", "演示口令"),
        ("BANGFU-DEMO-2024", None, "演示口令"),
        ("woaini1314520", None, "最常见的口令"),
        ("1qaz2wsx3edc", None, "最常见的口令"),
        ("qwertyuiop123", None, "最常见的口令"),
        ("Password1234", None, "最常见的口令"),
    ],
)
def test_password_policy_refusals(plain: str, username: str | None, reason: str) -> None:
    message = check_password_strength(plain, username)
    assert message is not None and reason in message


def test_common_password_list_is_bundled_and_holds_chinese_favourites() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 300
    assert {"123456", "woaini1314", "qq123456", "a123456", "5201314"} <= common


def test_temporary_passwords_pass_the_rules_and_differ() -> None:
    made = {passwords.temporary_password() for _ in range(20)}
    assert len(made) == 20
    assert all(check_password_strength(p, "zhang.san") is None and len(p) == 19 for p in made)


def test_password_policy_accepts_a_long_mixed_password() -> None:
    assert check_password_strength(PASSWORD, "zhang.san") is None
    assert check_password_strength("correct horse battery") is None


# --- add_user --------------------------------------------------------------------------------------


def test_add_user_stores_account_hash_and_audit_entry(db: Session) -> None:
    account = add(db, display_name="张三", can_unmask=True, actor="cli:admin", address="10.0.0.1")
    assert account == Account(account.id, "zhang.san", "张三", "county", "141123", True, True)
    user = db.get(User, account.id)
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash and verify_password(user.password_hash, PASSWORD)
    [entry] = audit_rows(db, "user.add")
    assert (entry.actor, entry.target_type, entry.target_id, entry.region_code, entry.address) == (
        "cli:admin",
        "user",
        str(account.id),
        "141123",
        "10.0.0.1",
    )
    assert json.loads(entry.after or "") == {
        "username": "zhang.san",
        "role": "county",
        "region_code": "141123",
        "can_unmask": True,
        "temporary": False,
        "is_demo": False,
    }
    assert entry.before is None
    assert PASSWORD not in (entry.after or "") and user.password_hash not in (entry.after or "")


def test_lookups_return_the_account(db: Session) -> None:
    account = add(db)
    assert get_account(db, account.id) == account
    assert find_account(db, "zhang.san") == account
    assert find_account(db, "nobody") is None
    assert get_account(db, account.id + 10_000) is None
    assert account in list_accounts(db)


def test_display_name_defaults_to_the_username(db: Session) -> None:
    assert add(db, "兴县张三").display_name == "兴县张三"


@pytest.mark.parametrize(
    ("role", "given", "stored"),
    [
        ("province", "140000", "14"),
        ("province", "14", "14"),
        ("city", "140100", "1401"),
        ("city", "1411", "1411"),
        ("county", "141123", "141123"),
        ("township", "141123100", "141123100"),
        ("township", "141123100000", "141123100"),
        ("auditor", "140000", "14"),
        ("auditor", "141123", "141123"),
        ("auditor", "141123100", "141123100"),
    ],
)
def test_region_codes_for_each_role(db: Session, role: str, given: str, stored: str) -> None:
    account = add(db, f"user.{role}", role=role, region_code=given)
    assert (account.role, account.region_code) == (role, stored)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"username": "zs"}, "用户名“zs”不可用：应为 3–64 个字符"),
        ({"username": "zhang san"}, "不含空格"),
        ({"username": "a/b/c"}, "用户名“a/b/c”不可用"),
        ({"username": "x" * 65}, "3–64 个字符"),
        ({"role": "admin"}, "角色“admin”不存在：应为 province（省级管理员）、city（市级工作人员）"),
        ({"region_code": "999999"}, "地区代码“999999”不在登记库的行政区划中"),
        ({"region_code": "兴县"}, "地区代码“兴县”不在登记库的行政区划中"),
        (
            {"role": "province", "region_code": "141123"},
            "角色 province（省级管理员）须对应省级地区，而 141123（兴县）是县级",
        ),
        ({"role": "city", "region_code": "140000"}, "须对应市级地区，而 14（山西省）是省级"),
        ({"role": "county", "region_code": "140100"}, "须对应县级地区，而 1401（太原市）是市级"),
        ({"role": "township", "region_code": "141123"}, "须对应乡镇级地区，而 141123（兴县）是县级"),
        ({"region_code": "140171"}, "是统计用区域，不是行政区划"),
        ({"password": "short"}, "口令至少需要 12 个字符"),
        ({"password": "bangfu-demo-2024"}, "公开的演示口令"),
        ({"role": "auditor", "region_code": "1411", "can_unmask": True}, "审计账号不能查看未脱敏的个人信息"),
        ({"password": "1234567890123"}, "口令不能全是数字"),
        ({"username": "wang.wu.2024", "password": "Wang.Wu.2024"}, "口令不能与用户名相同"),
        ({"display_name": "名" * 65}, "显示名称超过 64 个字"),
    ],
)
def test_add_user_refusals_write_nothing(db: Session, overrides: dict[str, object], fragment: str) -> None:
    before = counts(db)
    values: dict[str, object] = {"username": "wang.wu", "role": "county", "region_code": "141123", "password": PASSWORD}
    values.update(overrides)
    with pytest.raises(AccountError) as raised:
        add_user(db, **values)  # type: ignore[arg-type]
    assert fragment in str(raised.value)
    assert counts(db) == before


@pytest.mark.parametrize("duplicate", ["zhang.san", "Zhang.San"])
def test_duplicate_username_is_refused(db: Session, duplicate: str) -> None:
    add(db)
    before = counts(db)
    with pytest.raises(AccountError, match=f"用户名“{duplicate}”已被使用"):
        add(db, duplicate)
    assert counts(db) == before


def test_set_password_replaces_hash_and_is_audited(db: Session) -> None:
    add(db)
    set_password(db, "zhang.san", "另一个足够长的口令abc", actor="cli:admin")
    user = db.scalar(select(User).where(User.username == "zhang.san"))
    assert user is not None and verify_password(user.password_hash, "另一个足够长的口令abc")
    assert not verify_password(user.password_hash, PASSWORD)
    [entry] = audit_rows(db, "user.set_password")
    assert json.loads(entry.after or "") == {
        "username": "zhang.san",
        "temporary": False,
        "sessions_revoked": 0,
        "devices_forgotten": 0,
    }
    with pytest.raises(AccountError, match="至少需要 12 个字符"):
        set_password(db, "zhang.san", "short")
    with pytest.raises(AccountError, match="没有用户名为“nobody”的账户"):
        set_password(db, "nobody", PASSWORD)


# --- authenticate ----------------------------------------------------------------------------------


def attempts(db: Session, **where: object) -> list[tuple[str, str, bool]]:
    query = select(LoginAttempt.username, LoginAttempt.address, LoginAttempt.succeeded).order_by(LoginAttempt.id)
    for name, value in where.items():
        query = query.where(getattr(LoginAttempt, name) == value)
    return [tuple(row) for row in db.execute(query)]  # type: ignore[misc]


def test_authenticate_success_records_attempt_and_audit(db: Session) -> None:
    account = add(db)
    assert authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T) == account
    assert attempts(db, username="zhang.san") == [("zhang.san", "10.1.1.1", True)]
    [entry] = audit_rows(db, "auth.login")
    assert (entry.actor, entry.target_id, entry.address) == ("zhang.san", str(account.id), "10.1.1.1")


def test_wrong_password_fails_and_is_recorded(db: Session) -> None:
    add(db)
    with pytest.raises(LoginFailed) as raised:
        authenticate(db, "zhang.san", "wrong password!", "10.1.1.1", now=T)
    assert str(raised.value) == "用户名或口令错误"
    assert attempts(db, username="zhang.san") == [("zhang.san", "10.1.1.1", False)]
    [entry] = audit_rows(db, "auth.login_failed")
    assert entry.actor == "zhang.san"
    assert json.loads(entry.after or "") == {"reason": "wrong_password"}


def test_unknown_user_fails_alike_and_spends_the_verify_cost(db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    verified: list[str] = []
    real = sessions.spend_verify_cost
    monkeypatch.setattr(sessions, "spend_verify_cost", lambda plain: (verified.append(plain), real(plain)))
    with pytest.raises(LoginFailed) as raised:
        authenticate(db, "nobody.here", PASSWORD, "10.1.1.1", now=T)
    assert str(raised.value) == "用户名或口令错误"
    assert verified == [PASSWORD]
    assert attempts(db, username="nobody.here") == [("nobody.here", "10.1.1.1", False)]
    [entry] = audit_rows(db, "auth.login_failed")
    assert (entry.actor, entry.target_id) == ("nobody.here", None)


def test_inactive_account_fails_like_a_wrong_password(db: Session) -> None:
    account = add(db)
    user = db.get(User, account.id)
    assert user is not None
    user.active = False
    db.flush()
    with pytest.raises(LoginFailed, match=r"^用户名或口令错误$"):
        authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T)
    assert attempts(db, username="zhang.san") == [("zhang.san", "10.1.1.1", False)]


def test_long_username_and_address_are_truncated_for_the_record(db: Session) -> None:
    with pytest.raises(LoginFailed):
        authenticate(db, "u" * 100, PASSWORD, "a" * 100, now=T)
    assert attempts(db, username="u" * 64) == [("u" * 64, "a" * 64, False)]
    [entry] = audit_rows(db, "auth.login_failed")
    assert entry.actor == "u" * 64


def test_outdated_hash_is_replaced_on_sign_in(db: Session) -> None:
    account = add(db)
    user = db.get(User, account.id)
    assert user is not None
    old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    user.password_hash = old
    db.flush()
    authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T)
    db.refresh(user)
    assert user.password_hash != old
    assert not needs_rehash(user.password_hash) and verify_password(user.password_hash, PASSWORD)


def fail_times(
    db: Session, count: int, username: str, address: str, first: dt.datetime, device_token: str | None = None
) -> None:
    for n in range(count):
        with pytest.raises(LoginFailed):
            authenticate(db, username, "wrong password!", address, now=first + n * MINUTE, device_token=device_token)


def known_device(db: Session, account: Account, at: dt.datetime = T - dt.timedelta(days=30)) -> str:
    """The cookie of a device that signed in to ``account`` before."""
    token = remember_device(db, account.id, None, at)
    assert token is not None
    return token


def test_five_stranger_failures_delay_the_account_for_five_minutes(db: Session) -> None:
    add(db)
    fail_times(db, 5, "zhang.san", "10.1.1.1", T - 4 * MINUTE)  # at -4 … 0 minutes
    with pytest.raises(LoginThrottled) as raised:
        authenticate(db, "zhang.san", PASSWORD, "10.2.2.2", now=T + MINUTE)  # right password, other address
    assert raised.value.retry_after_s == 240  # five minutes from the newest failure
    assert "登录失败次数过多" in str(raised.value) and "4 分钟" in str(raised.value)
    assert json.loads(audit_rows(db, "auth.login_failed")[-1].after or "") == {"reason": "throttled"}


def test_refusals_during_the_delay_neither_count_nor_extend_it(db: Session) -> None:
    account = add(db)
    fail_times(db, 5, "zhang.san", "10.1.1.1", T - 4 * MINUTE)
    for second in range(1, 300, 20):  # someone keeps trying throughout the delay
        with pytest.raises(LoginThrottled) as raised:
            authenticate(db, "zhang.san", "wrong password!", "10.1.1.1", now=T + dt.timedelta(seconds=second))
        assert raised.value.retry_after_s == 300 - second
    assert len(attempts(db, username="zhang.san")) == 5  # refusals checked no password: not attempts
    assert len(audit_rows(db, "auth.login_failed")) == 5 + 15  # but each is audited
    assert authenticate(db, "zhang.san", PASSWORD, "10.2.2.2", now=T + 5 * MINUTE) == account


def test_waiting_as_told_is_enough(db: Session) -> None:
    account = add(db)
    fail_times(db, 5, "zhang.san", "10.1.1.1", T - 10 * MINUTE)
    with pytest.raises(LoginThrottled) as raised:
        authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T - 5 * MINUTE)
    told = T - 5 * MINUTE + dt.timedelta(seconds=raised.value.retry_after_s)
    assert authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=told) == account


def test_the_delay_does_not_grow(db: Session) -> None:
    """Each failure after a delay starts another of the same length, never a longer one."""
    add(db)
    fail_times(db, 5, "zhang.san", "10.1.1.1", T - 4 * MINUTE)
    for delay in range(1, 3):
        after_delay = T + delay * 5 * MINUTE
        fail_times(db, 1, "zhang.san", "10.1.1.1", after_delay)
        with pytest.raises(LoginThrottled) as raised:
            authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=after_delay + dt.timedelta(seconds=1))
        assert raised.value.retry_after_s == 299


def test_a_known_device_signs_in_while_strangers_are_delayed(db: Session) -> None:
    account = add(db)
    device = known_device(db, account)
    fail_times(db, 5, "zhang.san", "10.6.6.6", T - 4 * MINUTE)
    assert authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T, device_token=device) == account
    assert attempts(db, username="zhang.san", succeeded=True) == [("zhang.san", "10.1.1.1", True)]
    # Another account's device, an unknown cookie or none: a stranger, and delayed.
    other = known_device(db, add(db, "li.si"))
    for token in (other, "not-a-device", None):
        with pytest.raises(LoginThrottled):
            authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T, device_token=token)


def test_a_device_unused_for_half_a_year_is_a_stranger_again(db: Session) -> None:
    account = add(db)
    device = known_device(db, account, at=T - dt.timedelta(days=181))
    fail_times(db, 5, "zhang.san", "10.6.6.6", T - 4 * MINUTE)
    with pytest.raises(LoginThrottled):
        authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T, device_token=device)


def test_a_known_device_has_its_own_failure_limit(db: Session) -> None:
    account = add(db)
    device = known_device(db, account)
    fail_times(db, 5, "zhang.san", "10.1.1.1", T - 10 * MINUTE, device_token=device)
    # Its failures are its own: the account stays open to everyone else.
    assert authenticate(db, "zhang.san", PASSWORD, "10.2.2.2", now=T - 5 * MINUTE) == account
    # Past its limit the device is a stranger: five more failures and it waits like one.
    fail_times(db, 5, "zhang.san", "10.1.1.1", T - 4 * MINUTE, device_token=device)
    with pytest.raises(LoginThrottled):
        authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T + MINUTE, device_token=device)


def test_unknown_user_names_are_delayed_alike(db: Session) -> None:
    fail_times(db, 5, "nobody.here", "10.1.1.1", T - 4 * MINUTE)
    with pytest.raises(LoginThrottled):
        authenticate(db, "nobody.here", PASSWORD, "10.2.2.2", now=T + MINUTE)


def test_four_failures_do_not_throttle(db: Session) -> None:
    account = add(db)
    fail_times(db, 4, "zhang.san", "10.1.1.1", T - 4 * MINUTE)
    assert authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T) == account


def test_failures_older_than_the_window_do_not_count(db: Session) -> None:
    account = add(db)
    fail_times(db, 5, "zhang.san", "10.1.1.1", T - 20 * MINUTE)  # -20 … -16 minutes
    assert authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T) == account


def test_twenty_failures_throttle_the_address_not_the_accounts(db: Session) -> None:
    account = add(db)
    device = known_device(db, account)
    every_10_s = dt.timedelta(seconds=10)
    for n in range(20):  # different (unknown) user names: no single name reaches its own limit
        with pytest.raises(LoginFailed):
            authenticate(db, f"guess{n}", "wrong password!", "10.9.9.9", now=T - 14 * MINUTE + n * every_10_s)
    with pytest.raises(LoginThrottled) as raised:
        authenticate(db, "zhang.san", PASSWORD, "10.9.9.9", now=T)
    assert raised.value.retry_after_s == 60  # the oldest failure (-14:00) leaves the window in a minute
    assert authenticate(db, "zhang.san", PASSWORD, "10.1.1.1", now=T) == account  # from elsewhere
    assert authenticate(db, "zhang.san", PASSWORD, "10.9.9.9", now=T, device_token=device) == account


def test_devices_beyond_twenty_per_account_are_forgotten(db: Session) -> None:
    account = add(db)
    first = known_device(db, account, at=T - dt.timedelta(days=40))
    fail_times(db, 1, "zhang.san", "10.1.1.1", T - 10 * MINUTE, device_token=first)
    for n in range(MAX_DEVICES_PER_ACCOUNT):
        known_device(db, account, at=T - dt.timedelta(days=30 - n))
    assert db.scalar(select(func.count()).select_from(SignInDevice)) == MAX_DEVICES_PER_ACCOUNT
    assert db.scalar(select(SignInDevice.id).where(SignInDevice.token_hash == sessions.token_hash(first))) is None
    # Its failure stays on record, now as a stranger's.
    assert db.scalar(select(LoginAttempt.device_id).where(LoginAttempt.succeeded.is_(False))) is None


# --- sessions and tokens ---------------------------------------------------------------------------


def test_page_session_has_csrf_token_and_eight_hours(db: Session) -> None:
    account = add(db)
    issued = open_session(db, account, "page", now=T)
    assert issued.csrf_token and issued.csrf_token != issued.token
    assert issued.expires_at == T + dt.timedelta(hours=8)
    found = resolve_token(db, issued.token, "page", now=T + dt.timedelta(hours=7, minutes=59))
    assert found is not None
    assert (found.account, found.kind, found.csrf_token) == (account, "page", issued.csrf_token)
    assert found.expires_at == issued.expires_at and found.expires_at.tzinfo is not None


def test_api_token_has_no_csrf_and_one_hour(db: Session) -> None:
    account = add(db)
    issued = open_session(db, account, "api", now=T)
    assert issued.csrf_token is None and issued.expires_at == T + dt.timedelta(hours=1)
    found = resolve_token(db, issued.token, "api", now=T)
    assert found is not None and found.account == account and found.csrf_token is None


def test_only_the_token_hash_is_stored(db: Session) -> None:
    issued = open_session(db, add(db), "page", now=T)
    rows = [tuple(row) for row in db.execute(select(AuthSession.__table__))]
    assert rows and all(issued.token not in str(value) for row in rows for value in row)
    stored = db.scalar(select(AuthSession.token_hash).where(AuthSession.csrf_token == issued.csrf_token))
    assert stored == hashlib.sha256(issued.token.encode()).hexdigest()


def test_unresolvable_tokens(db: Session) -> None:
    account = add(db)
    issued = open_session(db, account, "page", now=T)
    assert resolve_token(db, issued.token, "api", now=T) is None  # wrong kind
    assert resolve_token(db, issued.token, "page", now=issued.expires_at) is None  # expired
    assert resolve_token(db, issued.token + "x", "page", now=T) is None  # unknown
    assert resolve_token(db, "", "page", now=T) is None
    assert resolve_token(db, "x" * 10_000, "page", now=T) is None


def test_revoked_token_no_longer_resolves_and_logout_is_audited(db: Session) -> None:
    account = add(db)
    issued = open_session(db, account, "api", now=T)
    revoke(db, issued.token, now=T + MINUTE)
    assert resolve_token(db, issued.token, "api", now=T + 2 * MINUTE) is None
    [entry] = audit_rows(db, "auth.logout")
    assert (entry.actor, entry.target_id) == ("zhang.san", str(account.id))
    revoke(db, issued.token, now=T + 2 * MINUTE)  # already ended: nothing more happens
    revoke(db, "unknown-token")
    assert len(audit_rows(db, "auth.logout")) == 1


def test_token_of_an_inactive_account_does_not_resolve(db: Session) -> None:
    account = add(db)
    issued = open_session(db, account, "page", now=T)
    db.execute(text("UPDATE users SET active = :no WHERE id = :id"), {"no": False, "id": account.id})
    assert resolve_token(db, issued.token, "page", now=T) is None


def test_unknown_session_kind_and_naive_times_are_refused(db: Session) -> None:
    account = add(db)
    with pytest.raises(ValueError, match="会话类型"):
        open_session(db, account, "cookie", now=T)
    with pytest.raises(ValueError, match="时区"):
        open_session(db, account, "page", now=dt.datetime(2024, 6, 30, 9, 0))
