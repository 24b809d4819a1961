"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import functools
import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, t=3, 64 MiB, p=4). A module
# attribute rather than a parameter so that tests can swap in a cheap hasher for speed.
HASHER = PasswordHasher()

MIN_LENGTH = 10

# At most one argon2 computation per CPU at a time in this process. Fifty parallel sign-ins would
# otherwise each take fifty times as long, and starve every other request of the CPU (and of the
# GIL, which a thread holding SQLite's write lock needs to finish and let it go).
_CPU_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


def hash_password(plain: str) -> str:
    """The encoded hash (algorithm, parameters, salt and hash together) to store."""
    with _CPU_SLOTS:
        return HASHER.hash(plain)


def verify_password(stored: str, plain: str) -> bool:
    """Whether ``plain`` matches ``stored``; False (never an exception) for a mismatch or a malformed hash."""
    try:
        with _CPU_SLOTS:
            return HASHER.verify(stored, plain)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than the current ones (rehash on next sign-in)."""
    try:
        return HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("不存在的账户用来消耗同样验证时间的口令")


def spend_verify_cost(plain: str) -> None:
    """Verify against a throwaway hash: an unknown user name then costs as much time as a known one."""
    verify_password(_dummy_hash(HASHER), plain)


def check_password_strength(plain: str, username: str | None = None) -> str | None:
    """Why ``plain`` is too weak to accept (in Chinese), or None when it is acceptable."""
    if len(plain) < MIN_LENGTH:
        return f"口令至少需要 {MIN_LENGTH} 个字符，现在只有 {len(plain)} 个：请换一个更长的口令（可用几个词连成一句）"
    if plain.isdigit():
        return "口令不能全是数字（生日、电话号码容易被猜中）：请加入字母或其他符号"
    if username is not None and plain.strip().casefold() == username.strip().casefold():
        return "口令不能与用户名相同：请另设一个口令"
    return None
