"""Each bundled rule finds exactly the rows planted for it in a generated file, and nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from check_files import DAY, NationalFile, born, clean_file, id_number, write_csv

from bangfu.checks.ruleset import RuleSet, load_rules
from bangfu.checks.run import check_file

RULES = load_rules()
Plant = Callable[[NationalFile], list[int]]


def _one(made: NationalFile, index: int, **changes: object) -> list[int]:
    made.rows[index].update(changes)
    return [index]


def _id_with_x() -> str:
    for sequence in range(1000):
        number = id_number("140925", dt.date(1980, 5, 5), sequence, "男")
        if number.endswith("X"):
            return number
    raise AssertionError("no check character X in 1000 tries")


def _bad_date_id() -> str:
    from bangfu.core.citizen_id import check_digit

    first17 = "14092519890230881"
    return first17 + check_digit(first17)


def _zj03(made: NationalFile) -> list[int]:
    child = made.member(0, "之子")
    number = made.rows[child]["id_number"]
    wrong = "1" if number.endswith("0") else "0"  # any other check character
    return _one(made, child, id_number=number[:17] + wrong)


def _zj07(made: NationalFile) -> list[int]:
    child = made.member(0, "之子")
    return [child, made.add_copy(child, person_number="dup", relation_to_head="之女")]


def _zj08(made: NationalFile) -> list[int]:
    child = made.member(0, "之子")  # household 0 is in 宁武县, household 1 in 兴县
    other = made.rows[made.member(1, "户主")]
    copy = made.add_copy(
        child,
        **{k: other[k] for k in ("city", "county", "township", "village", "household_number")},
        relation_to_head="之孙子",
    )
    return [child, copy]


PLANTS: dict[str, Plant] = {
    "ZJ01": lambda m: _one(m, m.member(0, "之子"), id_number=None),
    "ZJ02": lambda m: _one(m, m.member(0, "之子"), id_number="14092519"),
    "ZJ03": _zj03,
    "ZJ04": lambda m: _one(m, m.member(0, "配偶"), id_number=_bad_date_id()),
    "ZJ05": lambda m: _one(m, m.member(1, "配偶"), birth_date=born(43, 1).isoformat()),
    "ZJ06": lambda m: _one(m, m.member(1, "之子"), sex="女"),
    "ZJ07": _zj07,
    "ZJ08": _zj08,
    "ZJ09": lambda m: _one(m, m.member(2, "之父"), id_number=_id_with_x().lower()),
    "ZJ10": lambda m: _one(m, m.member(2, "配偶"), birth_date="不详"),
    "ZJ11": lambda m: _one(m, m.member(2, "之子"), birth_date="2025-01-01"),
    "ZJ12": lambda m: _one(m, m.member(3, "之父"), birth_date="1920-03-03"),
    "HU01": lambda m: m.household_rows(1) if _one(m, m.member(1, "户主"), relation_to_head="之兄弟姐妹") else [],
    "HU02": lambda m: [m.member(2, "户主"), *_one(m, m.member(2, "配偶"), relation_to_head="户主")],
    "HU03": lambda m: [m.member(0, "配偶"), *_one(m, m.member(0, "之子"), relation_to_head="配偶")],
    "HU04": lambda m: _one(m, m.member(3, "配偶"), sex="男"),
    "HU05": lambda m: _one(m, m.member(0, "之子"), relation_to_head="儿子"),
    "HU06": lambda m: _one(m, m.member(1, "之子"), relation_to_head=None),
    "HU07": lambda m: _one(m, m.member(2, "之父"), head_name="张三"),
    "HU08": lambda m: _one(m, m.member(2, "之子"), head_id_number=m.rows[m.member(0, "户主")]["id_number"]),
    "HU09": lambda m: m.household_rows(0) if _one(m, m.member(0, "之父"), household_kind="监测户") else [],
    "HU10": lambda m: m.household_rows(1) if _one(m, m.member(1, "之父"), village="西村") else [],
    "HU11": lambda m: _one(m, m.member(3, "之父"), sex="未知"),
    "HU12": lambda m: _one(m, m.member(3, "之子"), household_number=None),
    "JY01": lambda m: _one(m, m.member(0, "之子"), education="小学"),
    "JY02": lambda m: _one(m, m.member(1, "配偶"), education=None),
    "JY03": lambda m: _one(m, m.member(2, "之子"), schooling=None, education="小学"),
    "JY04": lambda m: _one(m, m.member(3, "之子"), schooling="五年级"),
    "JY05": lambda m: _one(m, m.member(0, "之父"), education="初小"),
    "LD01": lambda m: _one(m, m.member(1, "户主"), labor_skill="全劳力"),
    "LD02": lambda m: _one(m, m.member(2, "户主"), labor_skill=None),
    "LD03": lambda m: _one(m, m.member(3, "之父"), work_months="3", work_place="北京市"),
    "LD04": lambda m: _one(m, m.member(0, "配偶"), labor_skill="无劳动力"),
    "LD05": lambda m: _one(m, m.member(1, "之子"), labor_skill="普通劳动力"),
    "WG01": lambda m: _one(m, m.member(2, "配偶"), work_place="太原市"),
    "WG02": lambda m: _one(m, m.member(3, "配偶"), work_months="5"),
    "WG03": lambda m: _one(m, m.member(0, "户主"), work_months="13"),
    "WG04": lambda m: _one(m, m.member(1, "户主"), work_months="半年"),
    "WG05": lambda m: _one(m, m.member(2, "配偶"), employer_name="某建筑公司"),
    "GY01": lambda m: _one(m, m.member(0, "配偶"), welfare_post_months="13", welfare_post_type="保洁员"),
    "GY02": lambda m: _one(m, m.member(1, "配偶"), welfare_post_months="6"),
    "GY03": lambda m: _one(m, m.member(2, "配偶"), welfare_post_type="护林员"),
    "GY04": lambda m: _one(
        m, m.member(3, "户主"), work_months="12", welfare_post_months="6", welfare_post_type="保洁员"
    ),
    "GY05": lambda m: _one(m, m.member(0, "之父"), welfare_post_months="6", welfare_post_type="保洁员"),
    "DH01": lambda m: _one(m, m.member(1, "之父"), member_phone="1391234567"),
    "DH02": lambda m: _one(m, m.member(2, "之父"), household_phone="12345"),
    "JC01": lambda m: m.set_household(0, household_kind="普通户"),
    "JC02": lambda m: m.set_household(3, monitoring_category=None),
    "JC03": lambda m: m.set_household(3, monitoring_category="其他"),
    "JC04": lambda m: m.set_household(3, risk_removed=None),
    "JC05": lambda m: m.set_household(3, risk_removed="是"),
    "JC06": lambda m: m.set_household(1, monitoring_category="边缘易致贫户"),
}


def _found(path: Path, rules: RuleSet = RULES) -> dict[str, set[int]]:
    """rule id -> lines of the rows it found, read back from the run's hits."""
    with check_file(path, rules, DAY) as run:
        assert run.connection is not None
        hits = run.connection.execute("SELECT rule, row_no FROM hits").fetchall()
        assert all(result.checked for result in run.results), [r.not_checked for r in run.results if not r.checked]
    found: dict[str, set[int]] = {rule.id: set() for rule in RULES.rules}
    for rule_id, line in hits:
        found[rule_id].add(line)
    return found


def test_every_bundled_rule_has_a_planted_test() -> None:
    assert len(RULES.enabled()) >= 30
    assert {rule.id for rule in RULES.enabled()} == set(PLANTS)


def test_a_clean_file_has_no_suspects(tmp_path: Path) -> None:
    found = _found(write_csv(clean_file(), tmp_path / "clean.csv"))
    assert {rule: lines for rule, lines in found.items() if lines} == {}


@pytest.mark.parametrize("rule_id", sorted(PLANTS))
def test_rule_finds_its_planted_rows_and_nothing_else(rule_id: str, tmp_path: Path) -> None:
    made = clean_file()
    planted = PLANTS[rule_id](made)
    assert planted, "the plant must mark at least one row"
    # the other rules switched off: each query costs a few milliseconds, and this runs 50 times
    only = load_rules(disabled=[r.id for r in RULES.rules if r.id != rule_id])
    found = _found(write_csv(made, tmp_path / f"{rule_id}.csv"), only)
    assert found[rule_id] == made.lines(planted)
