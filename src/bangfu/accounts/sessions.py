"""Signing in (with throttling), and the page sessions and API tokens it opens.

Every password checked is written to ``login_attempts`` and every attempt to the audit log, in the
caller's transaction, also when ``authenticate`` raises: the caller must commit in both cases, or the
failures that throttling counts are rolled back with the exception. ``sign_in`` does that itself.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bangfu.accounts.devices import known_device, remember_device
from bangfu.accounts.passwords import hash_password, needs_rehash, spend_verify_cost, verify_password
from bangfu.accounts.throttling import device_trusted, stranger_wait
from bangfu.accounts.tokens import new_secret, plausible, token_hash
from bangfu.accounts.users import Account, account_of
from bangfu.audit.log import record
from bangfu.store.db import read_only_work, stored_utc, unit_of_work
from bangfu.store.tables import SESSION_KINDS, AuthSession, LoginAttempt, User

LIFETIMES = {"page": dt.timedelta(hours=8), "api": dt.timedelta(hours=1)}
TEXT_LIMIT = 64  # login_attempts.username/address and audit_log.actor


class LoginFailed(Exception):
    """Wrong user name or password, or an inactive account: deliberately indistinguishable."""

    def __init__(self) -> None:
        super().__init__("用户名或口令错误")


class LoginThrottled(Exception):
    """Too many recent failures for this user name or address."""

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, math.ceil(retry_after_s / 60))
        super().__init__(f"登录失败次数过多，已暂停登录：请约 {minutes} 分钟后再试")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class IssuedToken:
    token: str
    csrf_token: str | None
    expires_at: dt.datetime


@dataclass(frozen=True)
class Authenticated:
    account: Account
    session_id: int
    kind: str
    csrf_token: str | None
    expires_at: dt.datetime


@dataclass(frozen=True)
class SignedIn:
    """A successful sign-in: the account, and the secret of the device it came from (known, or new now)."""

    account: Account
    device_token: str


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now 必须带时区（UTC）")
    return now.astimezone(dt.UTC)


@dataclass(frozen=True)
class _Attempt:
    username: str
    address: str
    device_token: str | None
    now: dt.datetime


@dataclass(frozen=True)
class _Standing:
    """What the records say about an attempt before its password is checked."""

    user: User | None
    device_id: int | None  # a known device of this account, still below its own failure limit
    wait: int | None  # seconds to wait (throttled), or None


@dataclass(frozen=True)
class _Checked:
    """A password checked against the hash it was checked against (None: no such user)."""

    password_hash: str | None
    matches: bool
    new_hash: str | None = None  # the password hashed with today's parameters, when the stored one is older


def _standing(session: Session, attempt: _Attempt, *, lock: bool) -> _Standing:
    query = select(User).where(User.username == attempt.username)
    if lock:
        # PostgreSQL: attempts on one account take turns, so that its limit holds under a burst of
        # parallel guesses. (SQLite takes its one write lock at BEGIN IMMEDIATE and ignores FOR UPDATE.)
        query = query.with_for_update()
    user = session.scalar(query)
    device_id = known_device(session, attempt.device_token, user.id, attempt.now) if user is not None else None
    if device_id is not None and device_trusted(session, device_id, attempt.now):
        return _Standing(user, device_id, None)
    return _Standing(user, None, stranger_wait(session, attempt.username, attempt.address, attempt.now))


def _check(standing: _Standing, password: str) -> _Checked:
    """The slow part of signing in (argon2, about 0.1 s each): run it outside a write transaction if you can."""
    if standing.user is None:
        spend_verify_cost(password)  # so that response time does not tell whether the user exists
        return _Checked(None, False)
    stored = standing.user.password_hash
    if not verify_password(stored, password):
        return _Checked(stored, False)
    return _Checked(stored, True, hash_password(password) if needs_rehash(stored) else None)


def _attempted(session: Session, attempt: _Attempt, standing: _Standing, failure: str | None) -> None:
    user = standing.user
    if failure != "throttled":  # a refusal checked no password: recording it would prolong the wait
        session.add(
            LoginAttempt(
                username=attempt.username,
                address=attempt.address,
                at=attempt.now,
                succeeded=failure is None,
                device_id=standing.device_id,
            )
        )
        session.flush()
    record(
        session,
        actor=attempt.username,
        action="auth.login" if failure is None else "auth.login_failed",
        target_type="user" if user is not None else None,
        target_id=user.id if user is not None else None,
        region_code=user.region_code if user is not None else None,
        after=None if failure is None else {"reason": failure},
        address=attempt.address,
        at=attempt.now,
    )


def _fail(session: Session, attempt: _Attempt, standing: _Standing, failure: str) -> NoReturn:
    _attempted(session, attempt, standing, failure)
    if standing.wait is not None:
        raise LoginThrottled(standing.wait)
    raise LoginFailed


def _conclude(session: Session, attempt: _Attempt, password: str, checked: _Checked | None) -> _Standing:
    """Decide and record the attempt, with the standing read again under lock; ``checked`` if done already."""
    standing = _standing(session, attempt, lock=True)
    if standing.wait is not None:
        _fail(session, attempt, standing, "throttled")
    user = standing.user
    if checked is None or checked.password_hash != (user.password_hash if user is not None else None):
        checked = _check(standing, password)  # not checked yet, or the password changed meanwhile
    if user is None:
        _fail(session, attempt, standing, "unknown_user")
    if not checked.matches:
        _fail(session, attempt, standing, "wrong_password")
    if not user.active:
        _fail(session, attempt, standing, "inactive")
    if checked.new_hash is not None:
        user.password_hash = checked.new_hash
    _attempted(session, attempt, standing, None)
    return standing


def _attempt(username: str, address: str, device_token: str | None, now: dt.datetime | None) -> _Attempt:
    return _Attempt(username[:TEXT_LIMIT], address[:TEXT_LIMIT], device_token, _now(now))


def authenticate(
    session: Session,
    username: str,
    password: str,
    address: str,
    now: dt.datetime | None = None,
    *,
    device_token: str | None = None,
) -> Account:
    """The account for this user name and password; LoginFailed or LoginThrottled otherwise.

    ``device_token``: the device cookie the client sent, if any (see accounts/devices.py). The attempt
    is recorded in the session's transaction either way: commit it also when this raises.
    """
    standing = _conclude(session, _attempt(username, address, device_token, now), password, None)
    assert standing.user is not None
    return account_of(standing.user)


def sign_in(
    sessions: sessionmaker[Session],
    username: str,
    password: str,
    address: str,
    *,
    device_token: str | None = None,
    now: dt.datetime | None = None,
) -> SignedIn:
    """``authenticate`` for a web request, in transactions of its own that it commits also on refusal.

    The password is checked between a short look and a short write, holding no lock: on SQLite the
    write lock is one for the whole file, and fifty sign-ins each holding it through argon2 (0.1 s)
    would queue for seconds. The write looks again, so no limit is passed by racing the check.
    A successful sign-in from a new device registers it; set ``device_token`` as the device's cookie.
    """
    attempt = _attempt(username, address, device_token, now)
    with read_only_work(sessions) as session:
        standing = _standing(session, attempt, lock=False)
    checked = _check(standing, password) if standing.wait is None else None
    refusal: LoginFailed | LoginThrottled | None = None
    with unit_of_work(sessions) as session:
        try:
            standing = _conclude(session, attempt, password, checked)
        except (LoginFailed, LoginThrottled) as exc:
            refusal = exc  # raised after the commit, so that the failure counts
        else:
            assert standing.user is not None
            new_token = remember_device(session, standing.user.id, standing.device_id, attempt.now)
            signed_in = SignedIn(account_of(standing.user), new_token or attempt.device_token or "")
    if refusal is not None:
        raise refusal
    return signed_in


def open_session(session: Session, account: Account, kind: str, now: dt.datetime | None = None) -> IssuedToken:
    """A new page session (with a CSRF token, 8 hours) or API token (1 hour); only its SHA-256 is stored."""
    if kind not in SESSION_KINDS:
        raise ValueError(f"会话类型应为 {'、'.join(SESSION_KINDS)} 之一，实为 {kind!r}")
    now = _now(now)
    token = new_secret()
    csrf_token = new_secret() if kind == "page" else None
    expires_at = now + LIFETIMES[kind]
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=account.id,
            kind=kind,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
    )
    session.flush()
    return IssuedToken(token=token, csrf_token=csrf_token, expires_at=expires_at)


def resolve_token(session: Session, token: str, kind: str, now: dt.datetime | None = None) -> Authenticated | None:
    """The signed-in account of a token, or None (unknown, other kind, expired, revoked, inactive user).

    One indexed lookup by the token's hash: it runs on every request. Comparing hashes of a
    256-bit secret needs no constant-time care, since the hash leaks nothing usable about the token.
    """
    if not plausible(token):
        return None
    now = _now(now)
    row = session.execute(
        select(AuthSession.id, AuthSession.kind, AuthSession.csrf_token, AuthSession.expires_at)
        .add_columns(AuthSession.revoked_at, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_hash(token))
    ).one_or_none()
    if row is None or row.kind != kind or row.revoked_at is not None or not row.User.active:
        return None
    expires_at = stored_utc(row.expires_at)
    if expires_at <= now:
        return None
    return Authenticated(
        account=account_of(row.User), session_id=row.id, kind=row.kind, csrf_token=row.csrf_token, expires_at=expires_at
    )


def revoke(session: Session, token: str, now: dt.datetime | None = None, address: str | None = None) -> None:
    """End the session or token (signing out), audited as ``auth.logout``; unknown or ended: nothing to do."""
    if not plausible(token):
        return
    now = _now(now)
    found = session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_hash(token))
    ).one_or_none()
    if found is None or found.AuthSession.revoked_at is not None:
        return
    auth, user = found.AuthSession, found.User
    auth.revoked_at = now
    session.flush()
    record(
        session,
        actor=user.username,
        action="auth.logout",
        target_type="user",
        target_id=user.id,
        region_code=user.region_code,
        after={"session_id": auth.id, "kind": auth.kind},
        address=None if address is None else address[:TEXT_LIMIT],
        at=now,
    )
