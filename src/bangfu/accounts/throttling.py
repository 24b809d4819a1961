"""How many wrong passwords to allow, and from whom, before refusing for a while (ADR 0009).

Three counts over the last FAILURE_WINDOW, all of failed password checks in ``login_attempts``.
A refusal without a check is not such a row, so trying again during a wait never makes it longer.

- Per account, failures from strangers (anyone without a known device of the account):
  ACCOUNT_FAILURES of them put the account into a delay of ACCOUNT_DELAY from the newest one. The
  delay does not grow; after it, the right password passes. A known device is not held back by it.
- Per known device: DEVICE_FAILURES and the device counts as a stranger until they leave the window
  (a stolen device cookie does not give unlimited guesses).
- Per address, all failures: ADDRESS_FAILURES refuse strangers from that address until the oldest
  leaves the window; the accounts themselves stay open to everyone else.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bangfu.store.db import stored_utc
from bangfu.store.tables import LoginAttempt

FAILURE_WINDOW = dt.timedelta(minutes=15)
ACCOUNT_FAILURES = 5
ACCOUNT_DELAY = dt.timedelta(minutes=5)
DEVICE_FAILURES = 5
ADDRESS_FAILURES = 20


def _recent_failures(session: Session, which: ColumnElement[bool], limit: int, now: dt.datetime) -> list[dt.datetime]:
    """The newest ``limit`` failures matching ``which`` within the window, newest first."""
    found = session.scalars(
        select(LoginAttempt.at)
        .where(which, LoginAttempt.succeeded.is_(False), LoginAttempt.at > now - FAILURE_WINDOW)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ).all()
    return [stored_utc(at) for at in found]


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int | None:
    seconds = math.ceil((moment - now).total_seconds())
    return seconds if seconds > 0 else None


def account_wait(session: Session, username: str, now: dt.datetime) -> int | None:
    """Seconds a stranger must wait before trying ``username`` again, or None."""
    recent = _recent_failures(
        session, (LoginAttempt.username == username) & LoginAttempt.device_id.is_(None), ACCOUNT_FAILURES, now
    )
    if len(recent) < ACCOUNT_FAILURES:
        return None
    return _seconds_until(recent[0] + ACCOUNT_DELAY, now)


def address_wait(session: Session, address: str, now: dt.datetime) -> int | None:
    """Seconds a stranger at ``address`` must wait before trying any account again, or None."""
    recent = _recent_failures(session, LoginAttempt.address == address, ADDRESS_FAILURES, now)
    if len(recent) < ADDRESS_FAILURES:
        return None
    return _seconds_until(recent[-1] + FAILURE_WINDOW, now)


def device_trusted(session: Session, device_id: int, now: dt.datetime) -> bool:
    """Whether a known device is still below its own failure limit."""
    return len(_recent_failures(session, LoginAttempt.device_id == device_id, DEVICE_FAILURES, now)) < DEVICE_FAILURES


def stranger_wait(session: Session, username: str, address: str, now: dt.datetime) -> int | None:
    """The longer of the account's and the address's wait for a stranger, or None when neither applies."""
    waits = [wait for wait in (account_wait(session, username, now), address_wait(session, address, now)) if wait]
    return max(waits) if waits else None
