"""Citizen ID numbers (公民身份号码) per GB 11643-1999: checking and bulk generation (masking: ``core.disclosure``).

Layout of the 18 characters: 6-digit region code at issue, birth date ``yyyymmdd``, 3-digit
sequence whose last digit is odd for men, and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import functools
import operator
import re
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from bangfu.core import regions

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)

_CHECK_BYTES = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_EARLIEST_DAY = int(np.datetime64("1900-01-01", "D").astype(np.int64))
_LATEST_DAY = int(np.datetime64("9999-12-31", "D").astype(np.int64))
_ZERO = ord("0")
_WEIGHT_SUM = sum(WEIGHTS)

# Full-width digits and letters arrive from IME input and copy-paste out of Word/Excel files.
_FULL_WIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "X"})
_SPACES = re.compile(r"[\s\u3000]+")
_ID18 = re.compile(r"\d{17}[\dX]")


def check_digit(first17: str) -> str:
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"计算校验位需要 17 位数字，实为 {first17!r}")
    # On the digits' character codes, in C: a national import checks two numbers a row (3x the generator's speed).
    total = sum(map(operator.mul, first17.encode("ascii"), WEIGHTS)) - _ZERO * _WEIGHT_SUM
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    return _SPACES.sub("", raw).translate(_FULL_WIDTH).upper()


def upgrade_15(id15: str) -> str:
    """Legacy 15-digit numbers (before 1999) omit the century "19" and the check character."""
    if len(id15) != 15 or not id15.isascii() or not id15.isdigit():
        raise ValueError(f"15 位旧身份证号应全为数字，实为 {id15!r}")
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_digit(first17)


HISTORIC_SHANXI = "山西省（历史代码）"


class IdCheck(NamedTuple):
    """Outcome of ``check``; region, birth date and sex are only filled in for a valid number.

    A named tuple: an import checks two numbers a row, and building a frozen dataclass (each field
    set through ``object.__setattr__``) cost more than checking the number.

    ``historic`` is True for a Shanxi code that is not a county today (the number keeps the code of
    its issue, so renamed counties such as 140402 长治城区 are normal), False for a current Shanxi
    county, and None outside Shanxi, where no county list is bundled to tell.
    """

    id: str
    valid: bool
    reason: str | None
    region: str | None
    birth_date: date | None
    sex: str | None
    region_name: str | None = None
    historic: bool | None = None


@functools.cache
def _mainland_provinces() -> frozenset[str]:
    # Cached separately because regions.provinces() hands out a fresh copy on every call.
    return frozenset(regions.provinces())


def _invalid(id_number: str, reason: str) -> IdCheck:
    return IdCheck(id_number, False, reason, None, None, None)


# Cached: a province-wide import checks millions of numbers issued in a few thousand places, and
# building the full name walks the region tables each time. Bounded, since codes come from input.
@functools.lru_cache(maxsize=8192)
def _region_of_issue(code: str) -> tuple[str, bool | None] | str:
    """(name, historic) of a 6-digit code whose province is known, or the reason it is rejected."""
    if not regions.is_shanxi(code):
        return regions.name_of(regions.province_of(code)), None
    region = regions.get(code)
    if region is None or region.level != "county":
        return HISTORIC_SHANXI, True
    if region.statistics_only:
        return (
            f"地区码错误：{code}（{region.name}）是统计用区划，不是行政区划代码，身份证号不会以它开头，请核对第 1–6 位"
        )
    return regions.full_name(code), False


def _birth_date(id_number: str) -> date | None:
    return _date_of(id_number[6:14])


@functools.lru_cache(maxsize=65536)  # a province has a few tens of thousands of birth days
def _date_of(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def check(raw: str, today: date | None = None) -> IdCheck:
    today = today or date.today()
    # Almost every number arrives clean: 18 ASCII characters, upper-case X, no spaces to remove.
    clean = len(raw) == 18 and raw.isascii() and raw[:17].isdigit() and (raw[17] == "X" or raw[17].isdigit())
    id_number = raw if clean else normalize(raw)
    if len(id_number) == 15 and id_number.isascii() and id_number.isdigit():
        id_number = upgrade_15(id_number)
    if len(id_number) != 18:
        return _invalid(id_number, f"长度错误：应为 18 位（或 15 位旧号），实为 {len(id_number)} 位，请核对身份证号")
    if not clean and not _ID18.fullmatch(id_number):
        return _invalid(id_number, "含非法字符：前 17 位应为数字，末位为数字或 X，请核对身份证号")

    province = id_number[:2]
    if province not in _mainland_provinces():
        return _invalid(id_number, f"地区码错误：前两位 {province} 不是大陆省级行政区代码，请核对第 1–6 位")

    born = _birth_date(id_number)
    if born is None:
        return _invalid(id_number, f"出生日期错误：{id_number[6:14]} 不是真实日期，请核对第 7–14 位")
    if born > today:
        return _invalid(id_number, f"出生日期错误：{born.isoformat()} 晚于今天 {today.isoformat()}，请核对第 7–14 位")
    if born < EARLIEST_BIRTH:
        return _invalid(id_number, f"出生日期错误：{born.isoformat()} 早于 1900-01-01，请核对第 7–14 位")

    expected = check_digit(id_number[:17])
    if id_number[17] != expected:
        return _invalid(id_number, f"校验位错误：应为 {expected}，实为 {id_number[17]}，请核对身份证号")

    # After the check digit, so a mistyped number reports the typo rather than a region puzzle.
    issued_in = _region_of_issue(id_number[:6])
    if isinstance(issued_in, str):
        return _invalid(id_number, issued_in)
    region_name, historic = issued_in
    sex = "male" if int(id_number[16]) % 2 == 1 else "female"
    return IdCheck(id_number, True, None, id_number[:6], born, sex, region_name, historic)


def _date_ascii(day_numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """``yyyymmdd`` as ASCII bytes, one row per date, via a lookup table over the date range.

    Births span a few tens of thousands of distinct days, so formatting each day once and
    gathering 8-byte rows is much cheaper than splitting millions of dates into digits.
    """
    first, last = int(day_numbers.min()), int(day_numbers.max())
    days = np.arange(first, last + 1, dtype=np.int64).astype("datetime64[D]")
    table = np.char.replace(np.datetime_as_string(days, unit="D"), "-", "").astype("S8")
    rows = table.view(np.uint64)[day_numbers - first]
    return rows.view(np.uint8).reshape(-1, 8)


def generate_many(
    rng: np.random.Generator,
    region_codes: npt.NDArray[np.str_],
    birth_dates: npt.NDArray[np.datetime64],
    sexes: npt.NDArray[np.bool_],
) -> npt.NDArray[np.str_]:
    """Valid 18-character ID numbers, one per row; ``sexes`` is True for male.

    Works on a whole ASCII byte matrix at once because a synthetic province has millions of people.
    """
    codes = np.asarray(region_codes)
    if codes.dtype.kind != "U":
        codes = codes.astype(str)
    dates = np.asarray(birth_dates).astype("datetime64[D]")
    is_male = np.asarray(sexes, dtype=bool)
    n = codes.shape[0]
    if codes.shape != (n,) or dates.shape != (n,) or is_male.shape != (n,):
        raise ValueError("地区码、出生日期、性别三个一维数组的长度必须一致")
    if n == 0:
        return np.empty(0, dtype="U18")

    # Read the UCS-4 code points directly: far faster than converting each string, and a short
    # code shows up as NUL padding, which fails the digit test below.
    width = codes.dtype.itemsize // 4
    code_points = np.ascontiguousarray(codes).view(np.uint32).reshape(n, width)
    region = code_points[:, :6]
    if width < 6 or np.any((region < _ZERO) | (region > _ZERO + 9)) or np.any(code_points[:, 6:]):
        raise ValueError("地区码必须是 6 位数字")

    day_numbers = dates.astype(np.int64)
    if day_numbers.min() < _EARLIEST_DAY or day_numbers.max() > _LATEST_DAY:
        raise ValueError("出生日期必须在 1900-01-01 至 9999-12-31 之间")

    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :6] = region
    chars[:, 6:14] = _date_ascii(day_numbers)
    chars[:, 14:16] = rng.integers(_ZERO, _ZERO + 10, size=(n, 2), dtype=np.uint8)
    chars[:, 16] = rng.integers(0, 5, size=n, dtype=np.uint8) * 2 + is_male + _ZERO

    # Column by column: numpy's integer matmul has no BLAS path and is several times slower.
    total = np.zeros(n, dtype=np.uint16)
    for column, weight in enumerate(WEIGHTS):
        total += (chars[:, column] - _ZERO) * np.uint16(weight)
    chars[:, 17] = _CHECK_BYTES[total % 11]
    return chars.view("S18").reshape(n).astype("U18")
