"""Remember which keys a file has already shown, and on which line, in little memory.

A province-wide file holds millions of ID numbers; a Python ``dict`` of them costs well over
100 bytes each. Here each key is a 63-bit integer in an open-addressing table of two flat
arrays (8 + 4 bytes a slot, kept at most three quarters full), about 16-24 bytes a key.
"""

from __future__ import annotations

import hashlib
from array import array

_OCCUPIED = 1 << 63
_KEY_MASK = _OCCUPIED - 1
_WORD = (1 << 64) - 1
# Fibonacci hashing: multiplying by 2**64 / golden ratio spreads even sequential keys evenly.
_GOLDEN = 0x9E3779B97F4A7C15
_INITIAL_BITS = 16
_MAX_LINE = (1 << 32) - 1


def text_key(*parts: str) -> int:
    """A 63-bit key for arbitrary text (a household number, a record's identifying fields).

    Two different texts share a key with probability about n**2 / 2**64 — one in ten million
    for a million rows — and the only effect would be one row wrongly reported as a repeat.
    """
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _KEY_MASK


class FirstSeen:
    """``first_line(key, line)`` returns None the first time a key is seen, else that first line.

    Keys are taken modulo 2**63; ``text_key`` and ID-number keys already fit.
    """

    def __init__(self) -> None:
        self._allocate(_INITIAL_BITS)
        self._count = 0

    def _allocate(self, bits: int) -> None:
        self._bits = bits
        self._mask = (1 << bits) - 1
        self._shift = 64 - bits
        self._keys = array("Q", bytes(8 << bits))
        self._lines = array("I", bytes(4 << bits))

    def __len__(self) -> int:
        return self._count

    def _slot(self, stored: int) -> int:
        keys, mask = self._keys, self._mask
        slot = ((stored * _GOLDEN) & _WORD) >> self._shift
        while True:
            found = keys[slot]
            if found == 0 or found == stored:
                return slot
            slot = (slot + 1) & mask

    def first_line(self, key: int, line: int) -> int | None:
        stored = (key & _KEY_MASK) | _OCCUPIED
        # The probe loop of _slot, inlined: this runs once per row of every import.
        keys, mask = self._keys, self._mask
        slot = ((stored * _GOLDEN) & _WORD) >> self._shift
        while (found := keys[slot]) != 0:
            if found == stored:
                return self._lines[slot]
            slot = (slot + 1) & mask
        keys[slot] = stored
        self._lines[slot] = line if line < _MAX_LINE else _MAX_LINE
        self._count += 1
        if self._count * 4 > (3 << self._bits):
            self._grow()
        return None

    def _grow(self) -> None:
        keys, lines = self._keys, self._lines
        self._allocate(self._bits + 1)
        for index, stored in enumerate(keys):
            if stored:
                slot = self._slot(stored)
                self._keys[slot] = stored
                self._lines[slot] = lines[index]
