"""Search and sort keys of a Chinese personal name: its characters, pinyin initials and pinyin order.

A name is found by any fragment (华 finds 李华 and 华明) through the characters it holds, and by the
pinyin initials of its beginning (lh, lhm find 李华明). Readings are taken a character at a time from
pypinyin's dictionary, every reading of a character with several (曾 is both zeng and ceng): a person
types what they say, and a name has no context that would settle it. The sort key is the most common
reading (a surname's own reading for the first character), tone numbers included: ``li3hua2``. A tone
digit ends every syllable, so ``li3`` sorts before ``lian2`` in any collation, as in a dictionary.

Pure functions with per-character caches: a province's 3.3 million names hold a few thousand distinct
characters (ADR 0025).
"""

from __future__ import annotations

import functools
import itertools
import re

from pypinyin import Style, pinyin

# A name with more readings than this keeps the first ones: initials are for typing, not enumeration.
MAX_INITIAL_VARIANTS = 8
MIN_INITIALS = 2  # one letter would list a fifth of a county
MAX_QUERY = 64  # persons.name holds 64 characters

# The readings of surnames that differ from the character's most common one (百家姓 usage).
SURNAME_READINGS = {
    "曾": "zeng1",
    "单": "shan4",
    "解": "xie4",
    "仇": "qiu2",
    "区": "ou1",
    "查": "zha1",
    "朴": "piao2",
    "乐": "yue4",
    "尉": "yu4",
    "覃": "qin2",
    "盖": "ge3",
    "缪": "miao4",
    "召": "shao4",
    "种": "chong2",
    "繁": "po2",
    "员": "yun4",
    "华": "hua4",
    "任": "ren2",
    "宁": "ning4",
    "燕": "yan1",
    "纪": "ji3",
    "秘": "bi4",
    "翟": "zhai2",
    "长": "chang2",
    "卜": "bu3",
    "薄": "bo2",
    "都": "du1",
    "过": "guo1",
}

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LETTERS = re.compile(r"[a-z]+")
# Separators in names of ethnic minorities (阿依古丽·买买提) and spaces: not part of any fragment.
_SEPARATORS = frozenset(" ·•・.-")


class NameQueryError(ValueError):
    """A name query that cannot be searched; the message says why and what to type instead."""


@functools.cache
def _readings(char: str) -> tuple[str, ...]:
    """Every toned reading of a Han character (TONE3: ``hua2``), most common first; () for any other."""
    if not _HAN.fullmatch(char):
        return ()
    found = pinyin(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True, errors="ignore")
    return tuple(dict.fromkeys(found[0])) if found else ()


def _syllable(char: str, position: int) -> str:
    if position == 0 and char in SURNAME_READINGS:
        return SURNAME_READINGS[char]
    readings = _readings(char)
    return readings[0] if readings else char.lower()


# Names repeat (a county has many 王伟): an import's million rows hold a few hundred thousand distinct
# names, so their keys are computed once each.
NAME_CACHE = 1 << 18


@functools.lru_cache(maxsize=NAME_CACHE)
def sort_key(name: str) -> str:
    """The name in pinyin order: ``李华`` → ``li3hua2``; other characters as themselves, lower case."""
    return "".join(_syllable(char, i) for i, char in enumerate(c for c in name if c not in _SEPARATORS))


def _letters(char: str, position: int) -> tuple[str, ...]:
    letters = [r[0] for r in _readings(char)]
    if position == 0 and char in SURNAME_READINGS:
        letters.insert(0, SURNAME_READINGS[char][0])
    return tuple(dict.fromkeys(letters))


def initials(name: str) -> list[str]:
    """The pinyin initials of the name's Han characters, one string per combination of readings
    (曾华 → zh, ch), the most common first; [] when the name has no Han character."""
    options = [_letters(char, i) for i, char in enumerate(c for c in name if _HAN.fullmatch(c))]
    if not options:
        return []
    return ["".join(combo) for combo in itertools.islice(itertools.product(*options), MAX_INITIAL_VARIANTS)]


def terms(name: str) -> set[str]:
    """What the name index holds for a name: each character, and every prefix of its initials from
    ``MIN_INITIALS`` letters on (lh and lhm for 李华明)."""
    return set(sorted_terms(name))


@functools.lru_cache(maxsize=NAME_CACHE)
def sorted_terms(name: str) -> tuple[str, ...]:
    """``terms`` in sorted order, computed once per distinct name (the writers insert them sorted)."""
    found = {char for char in name if char not in _SEPARATORS}
    for variant in initials(name):
        found.update(variant[:length] for length in range(MIN_INITIALS, len(variant) + 1))
    return tuple(sorted(found))


def query_terms(query: str) -> tuple[set[str], bool]:
    """(terms every match holds, whether the match must also contain ``query`` as written).

    Text that is not only Latin letters (Han, or Han with letters as some registered names have) is a
    fragment: a match holds each of its characters, in that order. Latin letters alone are initials: a
    match's initials begin with them.
    NameQueryError for what neither can be.
    """
    text = query.strip()
    if len(text) > MAX_QUERY:
        raise NameQueryError(f"姓名最多 {MAX_QUERY} 个字，实为 {len(text)} 个字")
    lowered = text.lower()
    if _LETTERS.fullmatch(lowered):
        if len(lowered) < MIN_INITIALS:
            raise NameQueryError(
                f"拼音首字母至少输入 {MIN_INITIALS} 个，如“lh”可查到李华；只记得姓时请输入汉字，如“李”"
            )
        return {lowered}, False
    characters = {char for char in text if char not in _SEPARATORS}
    if not characters:
        raise NameQueryError("姓名只有空格或分隔符：请输入姓名中的一个或几个字，或拼音首字母")
    return characters, len(characters) > 1 or len(text) > 1
