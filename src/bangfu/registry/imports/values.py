"""Parse single cells into typed values; each parser raises ValueError with a reason in Chinese.

Parsers normalise what is clearly the same value written differently (full-width digits,
spaces, a lower-case x, ``是``/``Y``/``TRUE``) and refuse anything they would have to guess,
such as an amount with three decimals or an unknown category.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

from bangfu.core import citizen_id
from bangfu.core.vocabulary import (
    CATEGORIES,
    KIND_LABELS,
    LABOR_CAPACITIES,
    LEGACY_LABOR_CAPACITIES,
    ORGANIZATION_KINDS,
)
from bangfu.core.vocabulary import CATEGORY_LABELS as CATEGORY_LABELS_ZH
from bangfu.core.vocabulary import LABOR_CAPACITY_LABELS as LABOR_CAPACITY_LABELS_ZH

_WHITESPACE = re.compile(r"[\s\u3000]+")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE][+]?\d+")

# The names the policy uses, in the order of vocabulary.CATEGORIES; the mapping below adds variants.
CATEGORY_NAMES_ZH = tuple(CATEGORY_LABELS_ZH.values())
CATEGORY_LABELS: dict[str, str] = {
    "脱贫人口": "poverty_alleviated",
    "脱贫劳动力": "poverty_alleviated",
    "脱贫户": "poverty_alleviated",
    "边缘易致贫人口": "edge_of_poverty",
    "边缘易致贫户": "edge_of_poverty",
    "脱贫不稳定户": "unstable_alleviated",
    "突发严重困难户": "sudden_hardship",
    "防返贫监测对象": "monitored",
    "监测对象": "monitored",
    "农村低收入人口": "rural_low_income",
    # 低保 and 特困 have no category of their own: they are kinds of 农村低收入人口 (core/categories.py)
    "农村低保对象": "rural_low_income",
    "低保对象": "rural_low_income",
    "低保户": "rural_low_income",
    "农村特困人员": "rural_low_income",
    "特困人员": "rural_low_income",
    "特困供养人员": "rural_low_income",
    "监测户": "monitored",
    "易地搬迁": "relocated",
    "易地扶贫搬迁": "relocated",
    "易地扶贫搬迁群众": "relocated",
    "易地搬迁群众": "relocated",
} | {code: code for code in CATEGORIES}
_CATEGORY_SEPARATORS = re.compile(r"[、,，;；\s\u3000]+")

# The national vocabulary (劳动技能), then the older roster words and codes it replaced.
LABOR_CAPACITY_LABELS: dict[str, str] = (
    {label: code for code, label in LABOR_CAPACITY_LABELS_ZH.items()}
    | {
        "技能": "skilled",
        "普通": "ordinary",
        "全劳力": "ordinary",
        "全劳动力": "ordinary",
        "弱劳力": "weak",
        "弱劳动力": "weak",
        "半劳力": "weak",
        "半劳动力": "weak",
        "弱劳动力或半劳动力": "weak",
        "弱劳力或半劳力": "weak",
        "丧失劳动能力": "lost",
    }
    | {code: code for code in LABOR_CAPACITIES}
    | LEGACY_LABOR_CAPACITIES
)

ORGANIZATION_KIND_LABELS: dict[str, str] = (
    {label: kind for kind, label in KIND_LABELS.items()}
    | {
        "公司": "enterprise",
        "帮扶车间": "workshop",
        "社区工厂": "workshop",
        "卫星工厂": "workshop",
        "人力资源服务企业": "hr_agency",
        "孵化基地": "incubator",
        "创业园区": "incubator",
    }
    | {kind: kind for kind in ORGANIZATION_KINDS}
)

SEX_LABELS = {"男": "male", "男性": "male", "m": "male", "male": "male", "1": "male"} | {
    "女": "female",
    "女性": "female",
    "f": "female",
    "female": "female",
    "2": "female",
}

_TRUE = frozenset({"是", "有", "y", "yes", "true", "1", "√", "✓", "✔"})
_FALSE = frozenset({"否", "无", "n", "no", "false", "0", "×", "✗", "✘"})

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(?:(?:-|转)\d{1,6})?")
_MONEY = re.compile(r"(\d+)(?:\.(\d+))?")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_COUNT = re.compile(r"(\d+)(?:\.0+)?(?:天|日|人)?")
_NAME_CHARS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff·•.]+")

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_CODE = re.compile(f"[{CREDIT_CODE_CHARS}]{{18}}")
MAX_NAME_LENGTH = 50


def _scientific_reason(what: str, shown: str) -> str:
    return f"{what}“{shown}”已被 Excel 存成数字（科学计数法），后几位已经丢失；请把该列设为“文本”格式后重新录入本行"


def fold(text: str) -> str:
    """NFKC (full-width digits, letters and punctuation to ASCII) without any whitespace."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def parse_name(text: str, what: str = "姓名") -> str:
    name = text.strip()
    if not name:
        raise ValueError(f"{what}为空")
    # Forms pad two-character names to line up ("张  三"); a Chinese name has no spaces in it.
    if _NAME_CHARS.fullmatch(squeezed := _WHITESPACE.sub("", name)):
        name = squeezed
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"{what}超过 {MAX_NAME_LENGTH} 个字")
    return name


def parse_id_number(text: str, today: date, what: str = "身份证号") -> citizen_id.IdCheck:
    """A valid ID number, normalised to 18 upper-case characters, with its birth date and sex."""
    raw = text.strip()
    if not raw:
        raise ValueError(f"{what}为空")
    if ("e" in raw or "E" in raw) and _SCIENTIFIC.fullmatch(fold(raw)):
        raise ValueError(_scientific_reason(what, raw))
    result = citizen_id.check(raw, today)
    if not result.valid:
        raise ValueError(f"{what}有误：{result.reason}")
    return result


def parse_code(text: str, what: str) -> str:
    """An identifier such as a household number: any text, without spaces, not mangled by Excel."""
    code = fold(text)
    if not code:
        raise ValueError(f"{what}为空")
    if _SCIENTIFIC.fullmatch(code):
        raise ValueError(_scientific_reason(what, text.strip()))
    return code


def parse_phone(text: str, what: str = "联系电话") -> str:
    """An 11-digit mobile number, or a landline with its area code (0351-1234567)."""
    if _MOBILE.fullmatch(text):
        return text  # the usual case, skipping the normalisation below
    phone = fold(text).replace("－", "-")
    if phone.startswith("+86"):
        phone = phone[3:]
    digits = phone.replace("-", "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return digits
    if _LANDLINE.fullmatch(phone):
        return phone
    raise ValueError(f"{what}“{text.strip()}”格式不正确：应为 11 位手机号或带区号的固定电话（如 0351-1234567）")


@functools.lru_cache(maxsize=4096)
def parse_categories(text: str, what: str = "人员类别") -> tuple[str, ...]:
    """Category codes in the order written, without repeats; at least one."""
    codes: list[str] = []
    unknown: list[str] = []
    for part in _CATEGORY_SEPARATORS.split(unicodedata.normalize("NFKC", text)):
        if not part:
            continue
        code = CATEGORY_LABELS.get(part) or CATEGORY_LABELS.get(part.lower())
        if code is None:
            unknown.append(part)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise ValueError(f"{what}“{'、'.join(unknown)}”无法识别，可填：{'、'.join(CATEGORY_NAMES_ZH)}")
    if not codes:
        raise ValueError(f"{what}为空")
    return tuple(codes)


@functools.lru_cache(maxsize=256)
def parse_labor_capacity(text: str, what: str = "劳动能力") -> str:
    value = fold(text)
    code = LABOR_CAPACITY_LABELS.get(value) or LABOR_CAPACITY_LABELS.get(value.lower())
    if code is None:
        shown = text.strip() or "（空）"
        raise ValueError(
            f"{what}“{shown}”无法识别，可填：{'、'.join(LABOR_CAPACITY_LABELS_ZH.values())}"
            "（旧写法全劳力、弱劳力、半劳力也可）"
        )
    return code


@functools.lru_cache(maxsize=256)
def parse_organization_kind(text: str) -> str:
    value = fold(text)
    kind = ORGANIZATION_KIND_LABELS.get(value) or ORGANIZATION_KIND_LABELS.get(value.lower())
    if kind is None:
        shown = text.strip() or "（空）"
        raise ValueError(f"单位类型“{shown}”无法识别，可填：{'、'.join(KIND_LABELS.values())}")
    return kind


def parse_sex(text: str) -> str:
    value = fold(text).lower()
    if value not in SEX_LABELS:
        raise ValueError(f"性别“{text.strip()}”无法识别，应为 男 或 女")
    return SEX_LABELS[value]


def parse_bool(text: str, what: str) -> bool:
    value = fold(text).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{what}“{text.strip()}”无法识别，应为 是 或 否")


def parse_fen(text: str, what: str) -> int:
    """Yuan to integer fen, exactly: more than two decimals is refused, never rounded."""
    value = fold(text).removesuffix("元").lstrip("¥￥")
    if _THOUSANDS.fullmatch(value):
        value = value.replace(",", "")
    match = _MONEY.fullmatch(value)
    if match is None:
        raise ValueError(f"{what}“{text.strip()}”不是金额：应为元，最多两位小数，如 800 或 800.50")
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals.rstrip("0")) > 2:
        raise ValueError(f"{what}“{text.strip()}”超过两位小数（精确到分），不做四舍五入，请核对")
    return int(whole) * 100 + int(decimals[:2].ljust(2, "0"))


def parse_count(text: str, what: str) -> int:
    """A positive whole number (days, people); Excel may have stored it as ``5.0``."""
    match = _COUNT.fullmatch(fold(text))
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"{what}“{text.strip()}”应为正整数")
    return int(match.group(1))


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(char) * weight for char, weight in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def parse_credit_code(text: str) -> str:
    """A unified social credit code (统一社会信用代码, GB 32100-2015) with a correct check character."""
    code = fold(text).upper()
    if not _CREDIT_CODE.fullmatch(code):
        raise ValueError(f"统一社会信用代码“{text.strip()}”应为 18 位数字或大写字母（不含 I、O、Z、S、V）")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise ValueError(f"统一社会信用代码“{code}”校验位错误：应为 {expected}，实为 {code[17]}")
    return code
