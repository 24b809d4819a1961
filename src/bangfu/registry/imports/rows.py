"""The two things every import stage hands on: a raw row as read, or the reason it was refused."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row: ``line`` is where it starts in the file (CSV line or sheet row, 1-based).

    ``original`` holds the cells exactly as read, so that a refused row can be written back verbatim;
    ``values`` maps each column label to its cell (an empty string where the row is short).
    """

    line: int
    values: dict[str, str]
    original: list[str]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that is not imported, with a reason county staff can act on."""

    line: int
    original: list[str]
    reason_zh: str


class ReadError(Exception):
    """The file as a whole cannot be read (unknown format, no header, unsupported encoding)."""


class FileRefused(ReadError):
    """The file passes a limit of ``ImportLimits`` or is damaged or hostile: refused whole, whatever its header."""
