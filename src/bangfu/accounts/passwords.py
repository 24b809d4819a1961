"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import functools
import os
import secrets
import threading
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, t=3, 64 MiB, p=4). A module
# attribute rather than a parameter so that tests can swap in a cheap hasher for speed.
HASHER = PasswordHasher()

MIN_LENGTH = 12
# The shared password `bangfu demo` prints for its accounts: published, so never acceptable elsewhere.
DEMO_PASSWORD = "bangfu-demo-2024"

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


# No 0/o, 1/l/i: a temporary password is read out or copied by hand.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """A random one-time password for a new or reset account (about 78 bits), e.g. ``k7m2-x9pq-…``."""
    groups = ("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list of passwords too common to accept (case-folded)."""
    text = (resources.files("bangfu.accounts") / "common_passwords.txt").read_text(encoding="utf-8")
    lines = (line.strip().casefold() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_password_strength(plain: str, username: str | None = None) -> str | None:
    """Why ``plain`` is too weak to accept (in Chinese), or None when it is acceptable."""
    folded = plain.strip().casefold()
    if len(plain) < MIN_LENGTH:
        return f"口令至少需要 {MIN_LENGTH} 个字符，现在只有 {len(plain)} 个：请换一个更长的口令（可用几个词连成一句）"
    if plain.isdigit():
        return "口令不能全是数字（生日、电话号码容易被猜中）：请加入字母或其他符号"
    if len(set(folded)) <= 2:
        return "口令不能只由一两个字符反复组成：请换一个口令"
    name = (username or "").strip().casefold()
    # Containment only from 4 characters: a 3-letter name like "liu" would refuse too many good passwords.
    if name and (folded == name or (len(name) >= 4 and name in folded)):
        return "口令不能与用户名相同或包含用户名：请另设一个口令"
    if folded == DEMO_PASSWORD.casefold():
        return "这是 bangfu demo 公开的演示口令，任何人都知道：请另设一个口令"
    if folded in common_passwords():
        return "这是最常见的口令之一（在泄露的口令库中名列前茅），很容易被猜中：请另设一个口令"
    return None
