"""Cell text that a spreadsheet program shows as text and never runs as a formula (CSV/formula injection).

Excel, WPS and LibreOffice treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
line break before one) as a formula, in a CSV as much as in an XLSX written as text by a library
that takes ``=`` to mean a formula: a person registered as ``=HYPERLINK("http://x","点此")`` or
``=cmd|' /C calc'!A0`` would become a live link or a DDE command in the roster an official opens.
WPS also takes the full-width ``＝ ＋ － ＠`` that Chinese input methods type. Such text gets a
leading apostrophe, as OWASP's CSV-injection guidance advises: every program then shows it as
text. Numbers, dates and empty cells are left alone (a negative amount stored as a number is a
number, not a formula). ``restore`` undoes the prefix when a file Bangfu wrote comes back in.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
QUOTE = "'"

__all__ = ["FORMULA_STARTS", "neutralize", "restore", "safe_row"]


def neutralize(text: str) -> str:
    """``text`` with an apostrophe in front when it would otherwise start a formula."""
    if text and text[0] in FORMULA_STARTS:
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """The text ``neutralize`` was given: an export or rejects file imported again reads as registered."""
    if len(text) > 1 and text[0] == QUOTE and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


def safe_row(values: Iterable[object]) -> list[object]:
    """A row for a spreadsheet writer: text neutralized, numbers, dates and None as they are."""
    return [neutralize(value) if isinstance(value, str) else value for value in values]
