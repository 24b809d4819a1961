"""Money is integer fen everywhere; this module only turns it into text and back."""

from __future__ import annotations

import re

_YUAN = re.compile(r"^\s*(-?)(\d+)(?:\.(\d{1,2}))?\s*(?:元)?\s*$")


def format_yuan(fen: int) -> str:
    """12345 -> '123.45 元', exact (no float on the way)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d} 元"


def parse_yuan(text: str) -> int:
    """'800' / '800.5' / '800.50元' -> fen; rejects more than two decimals rather than rounding."""
    match = _YUAN.match(text)
    if match is None:
        raise ValueError(f"金额格式不正确：{text!r}（应为元，最多两位小数，如 800 或 800.50）")
    sign, whole, cents = match.groups()
    fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    return -fen if sign else fen
