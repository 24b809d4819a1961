from __future__ import annotations

import random

from bangfu.registry.imports.seen import FirstSeen, text_key


def test_first_line_is_remembered_across_growth() -> None:
    seen = FirstSeen()
    generator = random.Random(5)
    keys = generator.sample(range(1, 10**17), 200_000)
    for line, key in enumerate(keys, 2):
        assert seen.first_line(key, line) is None
    assert len(seen) == len(keys)
    for line, key in enumerate(keys, 2):
        assert seen.first_line(key, line + 10**6) == line
    assert len(seen) == len(keys)


def test_sequential_and_extreme_keys() -> None:
    seen = FirstSeen()
    for key in range(100_000):
        assert seen.first_line(key, key + 1) is None
    assert seen.first_line(0, 7) == 1
    assert seen.first_line(2**63 - 1, 3) is None
    assert seen.first_line(2**63 - 1, 4) == 3


def test_text_keys_are_stable_and_distinct() -> None:
    assert text_key("a", "b") == text_key("a", "b")
    assert text_key("a", "b") != text_key("ab")
    assert text_key("a", "b") != text_key("b", "a")
    assert 0 <= text_key("户编号") < 2**63
