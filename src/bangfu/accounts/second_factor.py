"""The optional second factor: six-digit TOTP codes (RFC 6238) from an authenticator app.

Enrolment shows a new secret (as text and as a QR code drawn here, without network) and stores it
only once a code made from it is right. At sign-in, a correct password for an enrolled account gives
a short-lived *pending* token, not a session: ``user_id.expiry.mac``, where the MAC's key is derived
from the account's password hash and TOTP secret. It needs no server-wide key (every worker process
checks it alike) and dies with a password change or a reset of the second factor. Each wrong code is
a failed sign-in attempt (``login_attempts``), and a pending token allows only a few of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any, cast

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from bangfu.accounts.users import Account, AccountError, account_of
from bangfu.audit.log import record
from bangfu.store.tables import LoginAttempt, User

ISSUER = "Bangfu"
PENDING_LIFETIME = dt.timedelta(minutes=5)
MAX_CODE_FAILURES = 3
TEXT_LIMIT = 64  # login_attempts.username/address


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The address as an inline SVG QR code: attributes only, so it passes the strict CSP."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff"))


def matching_step(secret: str, code: str, at: dt.datetime | None = None) -> int | None:
    """The time step ``code`` belongs to: the current one, or the one just before or after (clock
    drift of 30 s); None when it is none of them."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = at or dt.datetime.now(dt.UTC)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def code_matches(secret: str, code: str, at: dt.datetime | None = None) -> bool:
    return matching_step(secret, code, at) is not None


def _use_step(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as used, unless it or a later one already was: one statement, so that two
    requests racing with the same code cannot both pass."""
    used = session.execute(  # an UPDATE: its result is a cursor result, with a row count
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["totp_last_step"])
    return bool(cast("CursorResult[Any]", used).rowcount)


def enrol(session: Session, user_id: int, secret: str, code: str, *, address: str | None = None) -> Account:
    """Store ``secret`` as the account's second factor once ``code`` proves the app has it."""
    user = session.get(User, user_id)
    if user is None:
        raise AccountError("账户不存在：请重新登录")
    if user.totp_secret is not None:
        raise AccountError("两步验证已经启用：如需更换手机，请请管理员重置后重新设置")
    try:
        pyotp.TOTP(secret).now()  # a malformed secret (edited form) is refused, not stored
    except (ValueError, TypeError):
        raise AccountError("密钥无效：请刷新页面重新开始设置") from None
    step = matching_step(secret, code) if len(secret) <= 64 else None
    if step is None:
        raise AccountError("验证码不对：请输入验证器应用当前显示的 6 位数字（注意手机时间要准确）")
    user.totp_secret = secret
    user.totp_last_step = step  # the code shown while enrolling does not sign in again
    session.flush()
    record(
        session,
        actor=user.username,
        action="user.totp_enrol",
        target_type="user",
        target_id=user.id,
        region_code=user.region_code,
        after={"username": user.username},
        address=address,
    )
    return account_of(user)


def _mac(user: User, user_id: int, expires: int) -> str:
    key = hashlib.sha256(f"{user.password_hash}\n{user.totp_secret}".encode()).digest()
    return hmac.new(key, f"{user_id}.{expires}".encode(), hashlib.sha256).hexdigest()


def pending_token(session: Session, account: Account, now: dt.datetime | None = None) -> str:
    """The half-signed-in token for an enrolled account whose password was right."""
    user = session.get(User, account.id)
    if user is None or user.totp_secret is None:
        raise ValueError("只有启用了两步验证的账户才有待验证的登录")
    expires = int(((now or dt.datetime.now(dt.UTC)) + PENDING_LIFETIME).timestamp())
    return f"{user.id}.{expires}.{_mac(user, user.id, expires)}"


def pending_user(session: Session, token: str | None, now: dt.datetime | None = None) -> User | None:
    """The account a pending token stands for, while it is valid and the account enrolled and active."""
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[0]) > 19:
        return None
    user_id, expires = int(parts[0]), int(parts[1])
    if expires <= (now or dt.datetime.now(dt.UTC)).timestamp():
        return None
    user = session.get(User, user_id)
    if user is None or user.totp_secret is None or not user.active:
        return None
    return user if hmac.compare_digest(_mac(user, user_id, expires), parts[2]) else None


def pending_since(token: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(token.split(".")[1]), dt.UTC) - PENDING_LIFETIME


def failures_since(session: Session, username: str, since: dt.datetime) -> int:
    """Failed sign-in attempts of ``username`` since ``since`` (wrong codes and wrong passwords alike)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username[:TEXT_LIMIT],
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at >= since,
            )
        )
        or 0
    )


def check_code(session: Session, user: User, code: str, address: str) -> bool:
    """Whether ``code`` is right and not used before; a wrong or reused one is recorded as a failed
    attempt and audited."""
    assert user.totp_secret is not None
    step = matching_step(user.totp_secret, code)
    if step is not None and _use_step(session, user, step):
        return True
    reason = "wrong_code" if step is None else "reused_code"
    now = dt.datetime.now(dt.UTC)
    session.add(
        LoginAttempt(username=user.username[:TEXT_LIMIT], address=address[:TEXT_LIMIT], at=now, succeeded=False)
    )
    session.flush()
    record(
        session,
        actor=user.username,
        action="auth.login_failed",
        target_type="user",
        target_id=user.id,
        region_code=user.region_code,
        after={"reason": reason},
        address=address[:TEXT_LIMIT],
        at=now,
    )
    return False
