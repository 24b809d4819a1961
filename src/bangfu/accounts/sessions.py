"""Signing in (with throttling), and the page sessions and API tokens it opens.

Every attempt is written to ``login_attempts`` and the audit log in the caller's transaction, also
when ``authenticate`` raises: the caller must commit in both cases, or the failures that throttling
counts are rolled back with the exception.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bangfu.accounts.passwords import hash_password, needs_rehash, spend_verify_cost, verify_password
from bangfu.accounts.users import Account, account_of
from bangfu.audit.log import record
from bangfu.store.tables import SESSION_KINDS, AuthSession, LoginAttempt, User

FAILURE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
LIFETIMES = {"page": dt.timedelta(hours=8), "api": dt.timedelta(hours=1)}
TEXT_LIMIT = 64  # login_attempts.username/address and audit_log.actor
# token_urlsafe(32) gives 43 characters; anything far longer is not ours and is not worth hashing.
TOKEN_LIMIT = 256


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


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now 必须带时区（UTC）")
    return now.astimezone(dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite returns DateTime(timezone=True) columns naive; everything written here is UTC.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _retry_after(session: Session, column: Any, value: str, limit: int, now: dt.datetime) -> int | None:
    """Seconds to wait when ``limit`` failures lie in the window already, else None.

    The refused attempt is itself recorded as a failure, so the wait counts it: the oldest of the
    ``limit`` newest failures, this one included, must leave the window.
    """
    recent = session.scalars(
        select(LoginAttempt.at)
        .where(column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at > now - FAILURE_WINDOW)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    oldest = min([now, *(_utc(at) for at in recent[: limit - 1])])
    return max(1, math.ceil((oldest + FAILURE_WINDOW - now).total_seconds()))


def _attempted(
    session: Session, username: str, address: str, now: dt.datetime, user: User | None, failure: str | None
) -> None:
    session.add(LoginAttempt(username=username, address=address, at=now, succeeded=failure is None))
    session.flush()
    record(
        session,
        actor=username,
        action="auth.login" if failure is None else "auth.login_failed",
        target_type="user" if user is not None else None,
        target_id=user.id if user is not None else None,
        region_code=user.region_code if user is not None else None,
        after=None if failure is None else {"reason": failure},
        address=address,
        at=now,
    )


def authenticate(
    session: Session, username: str, password: str, address: str, now: dt.datetime | None = None
) -> Account:
    """The account for this user name and password; LoginFailed or LoginThrottled otherwise.

    The attempt is recorded in the session's transaction either way: commit it also when this raises.
    """
    now = _now(now)
    username, address = username[:TEXT_LIMIT], address[:TEXT_LIMIT]
    waits = [
        _retry_after(session, LoginAttempt.username, username, MAX_FAILURES_PER_USERNAME, now),
        _retry_after(session, LoginAttempt.address, address, MAX_FAILURES_PER_ADDRESS, now),
    ]
    if any(wait is not None for wait in waits):
        # Counted as a failure: whoever keeps trying stays locked out; the wait told holds if they stop now.
        _attempted(session, username, address, now, None, "throttled")
        raise LoginThrottled(max(wait for wait in waits if wait is not None))
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        spend_verify_cost(password)  # so that response time does not tell whether the user exists
        _attempted(session, username, address, now, None, "unknown_user")
        raise LoginFailed
    if not verify_password(user.password_hash, password):
        _attempted(session, username, address, now, user, "wrong_password")
        raise LoginFailed
    if not user.active:
        _attempted(session, username, address, now, user, "inactive")
        raise LoginFailed
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    _attempted(session, username, address, now, user, None)
    return account_of(user)


def open_session(session: Session, account: Account, kind: str, now: dt.datetime | None = None) -> IssuedToken:
    """A new page session (with a CSRF token, 8 hours) or API token (1 hour); only its SHA-256 is stored."""
    if kind not in SESSION_KINDS:
        raise ValueError(f"会话类型应为 {'、'.join(SESSION_KINDS)} 之一，实为 {kind!r}")
    now = _now(now)
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32) if kind == "page" else None
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
    if not token or len(token) > TOKEN_LIMIT:
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
    expires_at = _utc(row.expires_at)
    if expires_at <= now:
        return None
    return Authenticated(
        account=account_of(row.User), session_id=row.id, kind=row.kind, csrf_token=row.csrf_token, expires_at=expires_at
    )


def revoke(session: Session, token: str, now: dt.datetime | None = None, address: str | None = None) -> None:
    """End the session or token (signing out), audited as ``auth.logout``; unknown or ended: nothing to do."""
    if not token or len(token) > TOKEN_LIMIT:
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
