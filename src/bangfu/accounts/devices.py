"""Sign-in devices: browsers and clients that once signed in to an account with the right password.

OWASP's "device cookies": a device that proved itself once is not held back by the delay that
strangers' failures put on the account, so nobody can lock the owner out by guessing wrong on purpose.
The cookie is a random secret; only its SHA-256 is stored (``sign_in_devices``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bangfu.accounts.tokens import new_secret, plausible, token_hash
from bangfu.store.tables import LoginAttempt, SignInDevice

# A device unused this long is a stranger again: a cookie found on an old laptop should not outlive it.
DEVICE_LIFETIME = dt.timedelta(days=180)
# Clients that keep no cookies (scripts) would add a device at every sign-in: keep the newest few.
MAX_DEVICES_PER_ACCOUNT = 20


def known_device(session: Session, token: str | None, user_id: int, now: dt.datetime) -> int | None:
    """The id of ``user_id``'s device that holds ``token``, if used within DEVICE_LIFETIME; else None."""
    if not plausible(token):
        return None
    assert token is not None
    return session.scalar(
        select(SignInDevice.id).where(
            SignInDevice.token_hash == token_hash(token),
            SignInDevice.user_id == user_id,
            SignInDevice.last_used_at > now - DEVICE_LIFETIME,
        )
    )


def remember_device(session: Session, user_id: int, device_id: int | None, now: dt.datetime) -> str | None:
    """After a right password: mark the known device used, or register a new one and return its secret."""
    if device_id is not None:
        session.execute(update(SignInDevice).where(SignInDevice.id == device_id).values(last_used_at=now))
        return None
    token = new_secret()
    session.add(SignInDevice(user_id=user_id, token_hash=token_hash(token), created_at=now, last_used_at=now))
    session.flush()
    _forget_surplus(session, user_id)
    return token


def _forget_surplus(session: Session, user_id: int) -> None:
    surplus = session.scalars(
        select(SignInDevice.id)
        .where(SignInDevice.user_id == user_id)
        .order_by(SignInDevice.last_used_at.desc(), SignInDevice.id.desc())
        .offset(MAX_DEVICES_PER_ACCOUNT)
    ).all()
    if not surplus:
        return
    # Their past failures stay on record, from now on as a stranger's (the foreign key has no ON DELETE).
    session.execute(update(LoginAttempt).where(LoginAttempt.device_id.in_(surplus)).values(device_id=None))
    session.execute(delete(SignInDevice).where(SignInDevice.id.in_(surplus)))
