from __future__ import annotations

import time
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bangfu.core import citizen_id, regions
from bangfu.core.citizen_id import check, check_digit, normalize, upgrade_15
from bangfu.core.disclosure import masked_id_number, masked_phone, shown_birth_year

# The worked example in GB 11643-1999 itself.
STANDARD_EXAMPLE = "11010519491231002X"


def with_check_digit(first17: str) -> str:
    return first17 + check_digit(first17)


def test_check_digit_of_standard_example() -> None:
    assert check_digit(STANDARD_EXAMPLE[:17]) == "X"
    assert check_digit("14010519900101123") == with_check_digit("14010519900101123")[-1]


def test_check_digit_rejects_wrong_input() -> None:
    with pytest.raises(ValueError):
        check_digit("1234")
    with pytest.raises(ValueError):
        check_digit("1101051949123100X")


def test_valid_number_is_decoded() -> None:
    result = check(STANDARD_EXAMPLE)
    assert result.valid
    assert result.reason is None
    assert result.id == STANDARD_EXAMPLE
    assert result.region == "110105"
    assert result.birth_date == date(1949, 12, 31)
    assert result.sex == "female"  # 17th digit 2 is even


def test_male_from_odd_17th_digit() -> None:
    result = check(with_check_digit("14092519850615031"))
    assert result.valid
    assert result.sex == "male"
    assert result.region == "140925"


def test_bad_check_digit_names_expected_and_actual() -> None:
    result = check("110105194912310025")
    assert not result.valid
    assert result.reason == "校验位错误：应为 X，实为 5，请核对身份证号"
    assert result.birth_date is None and result.sex is None and result.region is None


def test_lower_case_x_is_accepted() -> None:
    result = check("11010519491231002x")
    assert result.valid
    assert result.id == STANDARD_EXAMPLE


def test_full_width_digits_and_spaces_are_normalized() -> None:
    raw = " １１０１０５\u3000１９４９１２３１ ００２ｘ "
    assert normalize(raw) == STANDARD_EXAMPLE
    assert check(raw).valid


def test_upgrade_15_inserts_century_and_check_digit() -> None:
    assert upgrade_15("110105491231002") == STANDARD_EXAMPLE
    result = check("110105491231002")
    assert result.valid
    assert result.id == STANDARD_EXAMPLE
    assert result.birth_date == date(1949, 12, 31)
    with pytest.raises(ValueError):
        upgrade_15("11010549123100X")


def test_february_30_is_not_a_date() -> None:
    result = check(with_check_digit("14010519900230123"))
    assert not result.valid
    assert result.reason is not None
    assert "出生日期错误" in result.reason
    assert "19900230" in result.reason


def test_leap_days() -> None:
    assert check(with_check_digit("14010520000229123")).valid
    assert not check(with_check_digit("14010519000229123")).valid


def test_future_birth_date() -> None:
    result = check(with_check_digit("14010520240102123"), today=date(2024, 1, 1))
    assert not result.valid
    assert result.reason is not None
    assert "晚于今天" in result.reason
    assert check(with_check_digit("14010520240101123"), today=date(2024, 1, 1)).valid


def test_birth_before_1900() -> None:
    # The standard's second example, born 1880: correct check digit, but outside what we accept.
    result = check("440524188001010014")
    assert not result.valid
    assert result.reason is not None
    assert "早于 1900-01-01" in result.reason


@pytest.mark.parametrize("prefix", ["99", "71", "00"])
def test_unknown_province(prefix: str) -> None:
    result = check(with_check_digit(prefix + "010519900101123"))
    assert not result.valid
    assert result.reason is not None
    assert "地区码错误" in result.reason
    assert prefix in result.reason


@pytest.mark.parametrize("raw", ["", "1234", "1101051949123100211", "1101051949123100"])
def test_wrong_length(raw: str) -> None:
    result = check(raw)
    assert not result.valid
    assert result.reason is not None
    assert result.reason.startswith("长度错误")


@pytest.mark.parametrize("raw", ["1101051949123100X2", "11010519491231002Y", "1101O5194912310022"])
def test_illegal_characters(raw: str) -> None:
    result = check(raw)
    assert not result.valid
    assert result.reason is not None
    assert result.reason.startswith("含非法字符")


def test_masking_keeps_neither_the_birth_date_nor_the_sequence() -> None:
    # ADR 0011: province and city, then the last sequence digit and the check character.
    assert masked_id_number("141102199001011234") == "1411************34"
    assert masked_id_number(STANDARD_EXAMPLE) == "1101************2X"
    assert masked_id_number("1234") == "****"
    assert masked_phone("13812345678") == "138******78"
    assert masked_phone("1381234") == "*******"
    assert masked_phone(None) is None and masked_phone("") is None
    assert shown_birth_year(date(1990, 1, 1)) == 1990


REGION_CODES = [r.code for r in regions.shanxi_counties() if not r.statistics_only] + [
    "110105",
    "440305",
    "650102",
]


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    people=st.lists(
        st.tuples(
            st.sampled_from(REGION_CODES),
            st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_generated_ids_are_valid_and_round_trip(seed: int, people: list[tuple[str, date, bool]]) -> None:
    codes = np.array([p[0] for p in people])
    born = np.array([p[1] for p in people], dtype="datetime64[D]")
    male = np.array([p[2] for p in people])
    ids = citizen_id.generate_many(np.random.default_rng(seed), codes, born, male)
    assert ids.shape == (len(people),)
    for id_number, (code, birth, is_male) in zip(ids, people, strict=True):
        result = check(str(id_number), today=date(2025, 1, 1))
        assert result.valid, result.reason
        assert result.region == code
        assert result.birth_date == birth
        assert result.sex == ("male" if is_male else "female")


def test_generate_many_accepts_object_arrays_and_empty_input() -> None:
    rng = np.random.default_rng(1)
    ids = citizen_id.generate_many(
        rng,
        np.array(["140105"], dtype=object),
        np.array(["1990-01-01"], dtype="datetime64[D]"),
        np.array([True]),
    )
    assert check(str(ids[0])).valid
    empty = citizen_id.generate_many(
        rng, np.array([], dtype=str), np.array([], dtype="datetime64[D]"), np.array([], dtype=bool)
    )
    assert empty.shape == (0,)


@pytest.mark.parametrize("code", ["14010", "1401051", "14a105"])
def test_generate_many_rejects_bad_region_codes(code: str) -> None:
    with pytest.raises(ValueError, match="地区码"):
        citizen_id.generate_many(
            np.random.default_rng(1),
            np.array([code]),
            np.array(["1990-01-01"], dtype="datetime64[D]"),
            np.array([True]),
        )


def test_generate_many_rejects_mismatched_lengths_and_old_dates() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError):
        citizen_id.generate_many(
            rng,
            np.array(["140105", "140106"]),
            np.array(["1990-01-01"], dtype="datetime64[D]"),
            np.array([True]),
        )
    with pytest.raises(ValueError, match="1900"):
        citizen_id.generate_many(
            rng, np.array(["140105"]), np.array(["1899-12-31"], dtype="datetime64[D]"), np.array([True])
        )


@pytest.mark.slow
def test_generate_many_is_vectorised() -> None:
    n = 3_300_000
    rng = np.random.default_rng(7)
    codes = np.array(REGION_CODES)[rng.integers(0, len(REGION_CODES), size=n)]
    born = np.datetime64("1958-07-02") + rng.integers(0, 18_000, size=n).astype("timedelta64[D]")
    male = rng.random(n) < 0.5
    started = time.perf_counter()
    ids = citizen_id.generate_many(rng, codes, born, male)
    elapsed = time.perf_counter() - started
    # Target is well under 2 s; the loose bound only catches a slip back to per-person Python.
    assert elapsed < 6.0
    sample = rng.integers(0, n, size=2_000)
    assert all(check(str(ids[i])).valid for i in sample)


def test_current_shanxi_county_is_not_historic() -> None:
    result = check(with_check_digit("14112319800101123"))
    assert (result.valid, result.region_name, result.historic) == (True, "山西省吕梁市兴县", False)


@pytest.mark.parametrize("code", ["140402", "142301", "140100"])
def test_shanxi_code_missing_today_is_historic(code: str) -> None:
    # 140402 长治城区 (renamed 潞州区 in 2019); 142301 an old 吕梁地区 code from before 2004.
    result = check(with_check_digit(code + "19800101123"))
    assert (result.valid, result.region, result.historic) == (True, code, True)
    assert result.region_name == "山西省（历史代码）"


def test_other_province_gives_province_name() -> None:
    result = check(with_check_digit("44030519900101123"))
    assert (result.valid, result.region_name, result.historic) == (True, "广东省", None)


@pytest.mark.parametrize("code", sorted(regions.STATISTICS_ONLY_ZONES))
def test_statistics_only_zone_is_not_an_id_region(code: str) -> None:
    result = check(with_check_digit(code + "19800101123"))
    assert not result.valid
    assert result.reason is not None
    assert result.reason.startswith(f"地区码错误：{code}（")
    assert "统计用区划" in result.reason


def test_check_digit_is_reported_before_the_region() -> None:
    number = with_check_digit("14017119800101123")
    typo = number[:17] + ("0" if number[17] != "0" else "1")
    result = check(typo)
    assert result.reason is not None
    assert result.reason.startswith("校验位错误")
