"""A national download placed in 兴县 (the county of ``county_xing``) with planted suspects, for the checks page."""

from __future__ import annotations

import re
import sys
from pathlib import Path

# the generator lives beside the checks' tests; one generator, not a copy of it here
sys.path.insert(0, str(Path(__file__).parents[1] / "checks"))
from check_files import DAY, NationalFile, clean_file, write_csv, write_xlsx
from sqlalchemy import select

from bangfu.audit.log import LOG
from bangfu.store.db import make_engine

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


def summary_counts(html: str) -> dict[str, str]:
    """rule id -> what the summary's 疑点行数 cell says."""
    rows = re.findall(r'data-label="规则编号" class="mono">(\w+)</td>.*?data-label="疑点行数">(.*?)</td>', html, re.S)
    return {rule: re.sub(r"<[^>]+>", "", cell) for rule, cell in rows}


def audit_entries(url: str, run_id: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(select(LOG.c.actor, LOG.c.action).where(LOG.c.target_id == run_id)).all()
    finally:
        engine.dispose()
    return [(actor, action) for actor, action in found]


__all__ = [
    "DAY",
    "NationalFile",
    "audit_entries",
    "clean_file",
    "summary_counts",
    "write_csv",
    "write_xlsx",
    "xing_file",
]
