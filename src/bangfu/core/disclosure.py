"""What of a person's identifiers is shown without the unmask permission: one policy for every page,
answer, export and command (ADR 0011).

An 18-character ID number is region (6) + birth date (8) + sequence (3) + check character (1). The
hukou county is shown on purpose (scoping and every list need it) and the sex too, so whatever else
is shown must leave the birth date and the sequence hidden:

- the birth date is shown as its **year** only — never the date, and never an age, whose change from
  one day to the next would tell the birthday;
- the masked number keeps the first 4 characters (province and city, no more than the county shows)
  and the last 2: the sequence's last digit (whose parity is the sex, already shown) and the check
  character. Hidden stay the month and day (365 choices) and two sequence digits (100), less the
  check character's one-in-eleven: about 3,300 valid numbers per person, each to be confirmed by an
  audited lookup. The old last four gave the whole sequence, and with the birth date the number.
- a phone number keeps its carrier prefix (3) and last 2 digits: a million numbers to try.

The full number is shown only by the audited unmasked view (``registry.queries.unmask_person``).
"""

from __future__ import annotations

import datetime as dt

ID_KEEP_HEAD = 4
ID_KEEP_TAIL = 2
PHONE_KEEP_HEAD = 3
PHONE_KEEP_TAIL = 2


def _masked(text: str, keep_head: int, keep_tail: int) -> str:
    # Too short to keep both ends without revealing it all (a mistyped number in a message): hide it all.
    if len(text) <= 2 * (keep_head + keep_tail):
        return "*" * len(text)
    return text[:keep_head] + "*" * (len(text) - keep_head - keep_tail) + text[-keep_tail:]


def masked_id_number(id_number: str) -> str:
    """``1411************1X``: province and city, then the last sequence digit and the check character."""
    return _masked(id_number, ID_KEEP_HEAD, ID_KEEP_TAIL)


def masked_phone(phone: str | None) -> str | None:
    """``138*******78`` (None stays None)."""
    return _masked(phone, PHONE_KEEP_HEAD, PHONE_KEEP_TAIL) if phone else None


def shown_birth_year(birth_date: dt.date) -> int:
    """The only part of a birth date shown beside a masked number."""
    return birth_date.year
