"""Helpers for the store tests: the migrated database handle, and valid rows with new unique keys."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy import Engine

from bangfu.core.citizen_id import check_digit
from bangfu.store.migrate import UpgradeResult
from bangfu.store.tables import Base, Household, Organization, Person


@dataclass(frozen=True)
class Migrated:
    backend: str
    url: str
    first_upgrade: UpgradeResult


_serial = itertools.count(1)
COUNTY = "141123"  # 兴县, a demo key county


def id_number(region: str = COUNTY, born: dt.date | None = None, male: bool = True) -> str:
    serial = next(_serial)
    # A different birth date per call keeps numbers unique without tracking sequence numbers.
    born = born or dt.date(1960, 1, 1) + dt.timedelta(days=serial)
    first17 = f"{region}{born:%Y%m%d}{serial % 100:02d}{(serial % 5) * 2 + int(male)}"
    return first17 + check_digit(first17)


def person(**overrides: object) -> Person:
    values: dict[str, object] = {"id_number": id_number(), "name": "张三", "hukou_region": COUNTY}
    values.update(overrides)
    return Person(**values)


def household(**overrides: object) -> Household:
    values: dict[str, object] = {
        "household_number": f"HH{next(_serial):08d}",
        "region_code": COUNTY,
        "address": "兴县蔚汾镇某村",
    }
    values.update(overrides)
    return Household(**values)


def organization(**overrides: object) -> Organization:
    values: dict[str, object] = {
        "credit_code": f"91141123MA{next(_serial):08d}",
        "name": "兴县兴农农业科技有限公司",
        "kind": "enterprise",
        "region_code": COUNTY,
    }
    values.update(overrides)
    return Organization(**values)


def empty_registry(engine: Engine) -> None:
    """Every table emptied but the regions and the audit log (append-only: its triggers refuse DELETE)."""
    kept = {"regions", "audit_log", "audit_head"}
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in kept:
                connection.execute(table.delete())
