"""Second-factor codes for tests: each code good once, so a test that signs in twice needs two."""

from __future__ import annotations

import datetime as dt

import pyotp


class Codes:
    """Successive codes of one secret, each of a later time step than the last, all within the
    ±30 s the server accepts (the step before now at first), however long the test takes."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last: int | None = None

    def next(self) -> str:
        now = self.totp.timecode(dt.datetime.now(dt.UTC))
        step = now - 1 if self.last is None else max(now - 1, self.last + 1)
        self.last = step
        return self.totp.generate_otp(step)

    def again(self) -> str:
        """The code used last: the server refuses it a second time."""
        assert self.last is not None
        return self.totp.generate_otp(self.last)
