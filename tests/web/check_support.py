"""A national download placed in 兴县 (the county of ``county_xing``) with planted suspects, for the checks page."""

from __future__ import annotations

import sys
from pathlib import Path

# the generator lives beside the checks' tests; one generator, not a copy of it here
sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from check_files import DAY, NationalFile, clean_file, write_csv, write_xlsx

XING_PLACE = {"city": "吕梁市", "county": "兴县", "township": "蔚汾镇", "village": "东坡村"}


def xing_file(households: int = 4) -> NationalFile:
    """A clean file all in 兴县, then: a son written as a woman (ZJ06), two phones too short (DH01)."""
    made = clean_file(households)
    for row in made.rows:
        row.update(XING_PLACE)
    made.rows[made.member(1, "之子")].update(sex="女")
    made.rows[made.member(1, "之父")].update(member_phone="1391234567")
    made.rows[made.member(2, "之父")].update(member_phone="1391234")
    return made


__all__ = ["DAY", "NationalFile", "clean_file", "write_csv", "write_xlsx", "xing_file"]
