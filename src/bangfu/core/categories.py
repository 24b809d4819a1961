"""Which person categories include which: the one declared hierarchy of 人员类别.

农村低收入人口 is not a tag of its own that a roster happens to carry: it is a family of groups
(the national definition since 2021) — 防返贫监测对象, whose three kinds are 脱贫不稳定户、边缘易致贫户
and 突发严重困难户 — and, where a roster says so, the whole group itself. A rule asking for
``'rural_low_income' in categories`` must therefore also see a person tagged only
``edge_of_poverty``. This table is the single place that says so; the rule parser (interpreter and
SQL alike), the imports and the registry search all read it (ADR 0015).

脱贫人口 and 易地搬迁群众 are *not* part of 农村低收入人口: the 2021 text always names them beside it
("脱贫人口、农村低收入人口"), so a rule that means both must say both.
"""

from __future__ import annotations

from functools import cache

from bangfu.core.vocabulary import CATEGORIES

# parent -> the categories it directly includes (each child is a kind of its parent)
CATEGORY_INCLUDES: dict[str, tuple[str, ...]] = {
    "rural_low_income": ("monitored",),
    "monitored": ("unstable_alleviated", "edge_of_poverty", "sudden_hardship"),
}
# category -> yes/no facts of a registered person (``persons`` columns, from the national download's
# 是否享受低保 and 是否特困供养人员) that also make the person count as it: 农村低保对象 and 农村特困人员
# are part of 农村低收入人口 though no roster tags them with a category.
CATEGORY_FACTS: dict[str, tuple[str, ...]] = {
    "rural_low_income": ("minimum_living_allowance", "extreme_poverty_support"),
}


def _check() -> None:
    """The table names known codes only and has no cycle (run at import: a typo fails at once)."""
    for parent, children in CATEGORY_INCLUDES.items():
        unknown = [c for c in (parent, *children) if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"category hierarchy names unknown codes: {unknown}")
    for code in CATEGORY_INCLUDES:
        if code in _descendants(code, ()):
            raise ValueError(f"category hierarchy has a cycle through {code}")


def _descendants(code: str, seen: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for child in CATEGORY_INCLUDES.get(code, ()):
        if child in seen:
            return (child,)
        out += [child, *_descendants(child, (*seen, child))]
    return tuple(out)


@cache
def members(code: str) -> tuple[str, ...]:
    """``code`` and every category it includes, in vocabulary order: who counts as ``code``."""
    wanted = {code, *_descendants(code, (code,))}
    return tuple(c for c in CATEGORIES if c in wanted) or (code,)


@cache
def ancestors(code: str) -> tuple[str, ...]:
    """``code`` and every category that includes it, in vocabulary order."""
    return tuple(c for c in CATEGORIES if code in members(c))


def facts_for(code: str) -> tuple[str, ...]:
    """The person facts (yes/no columns) through which someone counts as ``code`` (or one of its kinds)."""
    return tuple(dict.fromkeys(f for held in members(code) for f in CATEGORY_FACTS.get(held, ())))


def counts_as(held: tuple[str, ...] | list[str] | set[str] | frozenset[str], code: str) -> bool:
    """Whether a person holding ``held`` belongs to ``code`` (directly or through a kind of it)."""
    return any(c in held for c in members(code))


def with_ancestors(held: tuple[str, ...] | list[str] | set[str] | frozenset[str]) -> tuple[str, ...]:
    """``held`` and every category that includes one of them, in vocabulary order."""
    wanted = {a for c in held for a in ancestors(c)} | set(held)
    return tuple(c for c in CATEGORIES if c in wanted)


_check()
