"""An account after its creation: disabled and enabled, passwords reset or changed, sessions revoked.

Each change is audited in the caller's transaction, and each one that takes access away (disabling,
a new password, revoking) also ends every page session and API token the account holds, so that a
stolen cookie or token dies with it; a new password or disabling also forgets its sign-in devices.
Functions raise AccountError (Chinese, nothing written) for input that cannot be applied.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from bangfu.accounts.passwords import check_password_strength, hash_password, verify_password
from bangfu.accounts.users import Account, AccountError, account_of, find_user
from bangfu.audit.log import record
from bangfu.store.tables import AuthSession, SignInDevice, User


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def revoke_sessions(session: Session, user_id: int, *, keep_session_id: int | None = None) -> int:
    """End every open page session and API token of the account (but ``keep_session_id``); how many."""
    statement = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep_session_id is not None:
        statement = statement.where(AuthSession.id != keep_session_id)
    result = session.execute(statement.values(revoked_at=_now()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def forget_devices(session: Session, user_id: int) -> int:
    """Forget every browser the account signed in from: a device that knew an old password must not
    stay exempt from the failed-attempt limit while it guesses the new one; how many."""
    result = session.execute(delete(SignInDevice).where(SignInDevice.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _audit(session: Session, user: User, action: str, actor: str, address: str | None, **after: object) -> None:
    record(
        session,
        actor=actor,
        action=action,
        target_type="user",
        target_id=user.id,
        region_code=user.region_code,
        after={"username": user.username, **after},
        address=address,
    )


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    temporary: bool = False,
    actor: str = "cli",
    address: str | None = None,
) -> Account:
    """An administrator's new password, audited as ``user.set_password`` (never the password itself).

    ``temporary``: the account must choose its own password at its next sign-in. Every session and
    token of the account ends: whoever held the old password is out.
    """
    user = find_user(session, username)
    if reason := check_password_strength(password, username):
        raise AccountError(reason)
    user.password_hash = hash_password(password)
    user.must_change_password = temporary
    user.password_changed_at = _now()
    session.flush()
    revoked = revoke_sessions(session, user.id)
    forgotten = forget_devices(session, user.id)
    _audit(
        session,
        user,
        "user.set_password",
        actor,
        address,
        temporary=temporary,
        sessions_revoked=revoked,
        devices_forgotten=forgotten,
    )
    return account_of(user)


def change_own_password(
    session: Session,
    user_id: int,
    old: str,
    new: str,
    repeated: str,
    *,
    keep_session_id: int,
    address: str | None = None,
) -> Account:
    """The signed-in user's own change: the old password, then a new one twice; other sessions end."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise AccountError("账户不存在或已停用：请重新登录")
    if not verify_password(user.password_hash, old):
        raise AccountError("当前口令不对：请输入登录时用的口令（临时口令由管理员告知）")
    if new != repeated:
        raise AccountError("两次输入的新口令不一致：请重新输入")
    if new == old:
        raise AccountError("新口令不能与当前口令相同：请另设一个口令")
    if reason := check_password_strength(new, user.username):
        raise AccountError(reason)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = _now()
    session.flush()
    revoked = revoke_sessions(session, user.id, keep_session_id=keep_session_id)
    _audit(session, user, "user.change_password", user.username, address, sessions_revoked=revoked)
    return account_of(user)


def set_active(
    session: Session, username: str, active: bool, *, actor: str = "cli", address: str | None = None
) -> Account:
    """Disable (sessions and tokens end) or enable an account, audited as ``user.disable``/``user.enable``."""
    user = find_user(session, username)
    if user.active == active:
        state = "启用" if active else "停用"
        raise AccountError(f"账户“{username}”已经是{state}状态：无需再次{state}")
    user.active = active
    session.flush()
    revoked = 0 if active else revoke_sessions(session, user.id)
    forgotten = 0 if active else forget_devices(session, user.id)
    action = "user.enable" if active else "user.disable"
    _audit(session, user, action, actor, address, sessions_revoked=revoked, devices_forgotten=forgotten)
    return account_of(user)


def revoke_tokens(session: Session, username: str, *, actor: str = "cli", address: str | None = None) -> int:
    """End all page sessions and API tokens of the account, audited as ``user.revoke_tokens``; how many."""
    user = find_user(session, username)
    revoked = revoke_sessions(session, user.id)
    _audit(session, user, "user.revoke_tokens", actor, address, sessions_revoked=revoked)
    return revoked


def reset_second_factor(session: Session, username: str, *, actor: str = "cli", address: str | None = None) -> Account:
    """Remove the account's TOTP enrolment (a lost phone), audited as ``user.totp_reset``; sessions end."""
    user = find_user(session, username)
    if user.totp_secret is None:
        raise AccountError(f"账户“{username}”没有启用两步验证：无需重置")
    user.totp_secret = None
    session.flush()
    revoked = revoke_sessions(session, user.id)
    _audit(session, user, "user.totp_reset", actor, address, sessions_revoked=revoked)
    return account_of(user)
