"""Find a table's header: one row, or two or three when cells were merged above the column names.

County templates often put a title (``XX县脱贫劳动力花名册``) or group labels (``基本信息``
over ``姓名``, ``身份证号``) above the column names, in merged cells. Read-only XLSX reading and
CSV both show a merged cell as its first cell followed by empty ones, so the label is carried to
the right, and each column is labelled by joining its parts: ``基本信息/姓名``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

MAX_HEADER_ROWS = 3
PART_SEPARATOR = "/"

# Text that is data rather than a column name: numbers, ID numbers, phone numbers, dates.
_DATA_LIKE = re.compile(r"[\d\s.,:/+\-年月日XxＸｘ\uff10-\uff19]+")

HeaderCheck = Callable[[Sequence[str]], bool]


def _filled(cells: Sequence[str], column: int) -> bool:
    return column < len(cells) and bool(cells[column].strip())


def _continues_header(above: Sequence[str], below: Sequence[str]) -> bool:
    """Whether ``below`` names columns under merged cells of ``above`` instead of holding data."""
    under_gap = any(_filled(below, column) and not _filled(above, column) for column in range(len(below)))
    if not under_gap:
        return False
    return not any(cell.strip() and _DATA_LIKE.fullmatch(cell.strip()) for cell in below)


def header_depth(candidates: Sequence[Sequence[str]], accepts: HeaderCheck | None = None) -> int:
    """How many of the first non-empty rows form the header (at least 1).

    ``accepts`` tells whether some labels already hold every required column; when it does, the
    header stops there, so a data row can never be mistaken for part of the header.
    """
    depth = 1
    while depth < min(len(candidates), MAX_HEADER_ROWS):
        if accepts is not None and accepts(combine_header(candidates[:depth])):
            break
        if not _continues_header(candidates[depth - 1], candidates[depth]):
            break
        depth += 1
    return depth


def _carry_right(cells: Sequence[str], width: int) -> list[str]:
    carried: list[str] = []
    label = ""
    for column in range(width):
        text = cells[column].strip() if column < len(cells) else ""
        label = text or label
        carried.append(label)
    return carried


def combine_header(rows: Sequence[Sequence[str]]) -> list[str]:
    """One unique label per column; a column with no label at all is called ``第N列``."""
    width = max((len(row) for row in rows), default=0)
    while width and not any(_filled(row, width - 1) for row in rows):
        width -= 1
    upper = [_carry_right(row, width) for row in rows[:-1]]
    lowest = [rows[-1][column].strip() if column < len(rows[-1]) else "" for column in range(width)]
    labels: list[str] = []
    for column in range(width):
        parts: list[str] = []
        for part in (*(row[column] for row in upper), lowest[column]):
            if part and (not parts or parts[-1] != part):
                parts.append(part)
        labels.append(PART_SEPARATOR.join(parts) or f"第{column + 1}列")
    return _unique(labels)


def _unique(labels: list[str]) -> list[str]:
    # A repeated label gets "#2", "#3": every cell stays addressable, and the header mapping
    # sees the repetition and refuses to guess which copy is meant.
    seen: dict[str, int] = {}
    unique: list[str] = []
    for label in labels:
        count = seen.get(label, 0) + 1
        seen[label] = count
        unique.append(label if count == 1 else f"{label}#{count}")
    return unique


_WHITESPACE = re.compile(r"\s+")
_REPEAT_SUFFIX = re.compile(r"#\d+$")
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")"})


def normalize_header(text: str) -> str:
    """The form headers are compared in: NFKC (full-width brackets, letters and digits become
    ASCII), no whitespace anywhere (an Alt+Enter break included), no ``*`` at either end, ASCII
    letters in lower case."""
    folded = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    return _WHITESPACE.sub("", folded).strip("*").lower()


def match_keys(label: str) -> list[str]:
    """The keys a header label is looked up under: its full text and, for a grouped label
    (``基本信息/姓名``), its last part; a repeat suffix (``姓名#2``) dropped."""
    base = _REPEAT_SUFFIX.sub("", label)
    keys = [normalize_header(base)]
    if PART_SEPARATOR in base:
        keys.append(normalize_header(base.rsplit(PART_SEPARATOR, 1)[1]))
    return keys
