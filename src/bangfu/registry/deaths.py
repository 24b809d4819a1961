"""A recorded death (ADR 0034): the day and where it was learnt, on the person, audited.

The national monitoring download has no death column (docs/import-headers.md), so no import sets it;
a county records a notice it received (civil affairs, the public-security household register, a
village's report). Recording another day corrects it; the audit log keeps what it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Table, select, update

from bangfu.access.scope import Scope
from bangfu.audit import log as audit
from bangfu.core import citizen_id
from bangfu.core.disclosure import masked_id_number
from bangfu.store.tables import Person

PERSONS = cast(Table, Person.__table__)


class DeathRecordError(ValueError):
    """A death not recorded, with the reason in Chinese."""


@dataclass(frozen=True)
class DeathRecorded:
    person_id: int
    region_code: str
    changed: bool
    before: dt.date | None


def record_death(
    connection: Connection,
    id_number: str,
    died_on: dt.date,
    source: str,
    *,
    actor: str,
    scope: Scope | None = None,
    today: dt.date | None = None,
) -> DeathRecorded:
    """Record that the registered person ``id_number`` died on ``died_on``; ``scope`` (the account's)
    limits whom the actor may record. The same record again changes nothing."""
    number = citizen_id.normalize(id_number)
    shown = masked_id_number(number) if len(number) == 18 else number
    where = source.strip()
    if not where:
        raise DeathRecordError("请写明死亡信息的来源（--source，如“民政部门通报”“公安户籍注销”）")
    if died_on > (today or dt.date.today()):
        raise DeathRecordError(f"死亡日期 {died_on.isoformat()} 晚于今天，请核对")
    row = connection.execute(
        select(
            PERSONS.c.id, PERSONS.c.hukou_region, PERSONS.c.birth_date, PERSONS.c.died_on, PERSONS.c.death_source
        ).where(PERSONS.c.id_number == number)
    ).one_or_none()
    if row is None or (scope is not None and not scope.contains(row.hukou_region)):
        raise DeathRecordError(f"登记库中没有身份证号为 {shown} 的人员（或不在本账户管辖地区），未作记录")
    if died_on < row.birth_date:
        raise DeathRecordError(f"死亡日期 {died_on.isoformat()} 早于出生日期 {row.birth_date.isoformat()}，请核对")
    if row.died_on == died_on and row.death_source == where:
        return DeathRecorded(int(row.id), row.hukou_region, False, row.died_on)
    connection.execute(update(PERSONS).where(PERSONS.c.id == row.id).values(died_on=died_on, death_source=where))
    audit.record(
        connection,
        actor=actor,
        action="person.death",
        target_type="person",
        target_id=row.id,
        region_code=row.hukou_region,
        before=None if row.died_on is None else {"died_on": row.died_on.isoformat(), "source": row.death_source},
        after={"died_on": died_on.isoformat(), "source": where},
    )
    return DeathRecorded(int(row.id), row.hukou_region, True, row.died_on)
