"""Auto-checks that read the registry for the frauds auditors find every year (ADR 0034).

Each is a named rule with its reason in Chinese; a failed one flags the claim, which is then approved
only with a recorded override. Each applies to the claims it can judge and passes the others, saying
why. The thresholds are here, in ``PROVIDER_JUMP``, and documented in docs/payments.md.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select

from bangfu.claims.drafting import PERSONS
from bangfu.claims.findings import Context, Finding
from bangfu.claims.records import CLAIMS
from bangfu.core.regions import name_of
from bangfu.store.claim_tables import DEAD_STATUSES
from bangfu.store.tables import EmploymentSpell, TrainingRecord

SPELLS = cast(Table, EmploymentSpell.__table__)
TRAINING = cast(Table, TrainingRecord.__table__)


@dataclass(frozen=True)
class ProviderJump:
    """A training provider's trainee-month claims of one month are suspect when they exceed ``factor``
    times the median of its own previous ``months`` months (a month without claims counts 0) and are
    at least ``minimum`` (so that a small provider going from 2 to 7 is not flagged)."""

    factor: int = 3
    months: int = 6
    minimum: int = 20


PROVIDER_JUMP = ProviderJump()


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def deceased(ctx: Context) -> Finding:
    claim = ctx.claim
    label = "对象未登记死亡"
    if claim.person_id is None:
        return Finding("deceased", label, True, "单位申报，不适用")
    row = ctx.connection.execute(
        select(PERSONS.c.died_on, PERSONS.c.death_source).where(PERSONS.c.id == claim.person_id)
    ).one()
    if row.died_on is None:
        return Finding("deceased", label, True, "登记库中无此人的死亡记录")
    died, source = row.died_on, row.death_source or "未注明"
    drafted = _day(claim.created_at)
    if claim.event_date >= died:
        return Finding(
            "deceased",
            label,
            False,
            f"登记库记载此人已于 {died.isoformat()} 死亡（来源：{source}），"
            f"申报的事件日 {claim.event_date.isoformat()} 在死亡当日或之后",
        )
    if drafted >= died:
        return Finding(
            "deceased",
            label,
            False,
            f"登记库记载此人已于 {died.isoformat()} 死亡（来源：{source}），本申报起草于 {drafted.isoformat()}，"
            "在死亡之后：请核实由谁申请、款项付给谁",
        )
    return Finding("deceased", label, True, f"登记死亡日期 {died.isoformat()}，事件日与起草日均在此前")


def _trainings(ctx: Context) -> list[Any] | None:
    """The person's training records begun by the claim's day, for a claim paid per course day."""
    claim = ctx.claim
    if claim.person_id is None or claim.repeat_per != "course_day":
        return None
    return list(
        ctx.connection.execute(
            select(TRAINING)
            .where(TRAINING.c.person_id == claim.person_id, TRAINING.c.start_date <= claim.decided_on)
            .order_by(TRAINING.c.start_date, TRAINING.c.id)
        )
    )


def training_days(ctx: Context) -> Finding:
    """No course can have more training days than calendar days from its start to the claim's day."""
    label = "培训天数不超过日历天数"
    records = _trainings(ctx)
    if records is None:
        return Finding("training_days", label, True, "不按培训天数计发，不适用")
    day = ctx.claim.decided_on
    for record in records:
        calendar_days = (day - record.start_date).days + 1
        if record.days > calendar_days:
            return Finding(
                "training_days",
                label,
                False,
                f"培训“{record.provider} {record.programme}”自 {record.start_date.isoformat()} 开始，至 "
                f"{day.isoformat()} 只有 {calendar_days} 个日历日，却登记培训 {record.days} 天",
            )
    return Finding("training_days", label, True, f"{len(records)} 段培训的天数均不超过其开始以来的日历天数")


def overlapping_trainings(ctx: Context) -> Finding:
    """Two courses of one person may not share a day: each takes at least its days from its start, so
    a course that starts before the previous one's shortest end overlaps it."""
    label = "同一人的培训时间不重叠"
    records = _trainings(ctx)
    if records is None:
        return Finding("overlapping_trainings", label, True, "不按培训天数计发，不适用")
    for before, after in itertools.pairwise(records):
        shortest_end = before.start_date + dt.timedelta(days=before.days - 1)
        if after.start_date <= shortest_end:
            return Finding(
                "overlapping_trainings",
                label,
                False,
                f"培训“{before.provider} {before.programme}”自 {before.start_date.isoformat()} 起"
                f"培训 {before.days} 天，"
                f"最早 {shortest_end.isoformat()} 结束；培训“{after.provider} {after.programme}”却于 "
                f"{after.start_date.isoformat()} 开始，两段培训时间重叠",
            )
    return Finding("overlapping_trainings", label, True, "未发现时间重叠的培训")


def _month(day: dt.date, back: int = 0) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 - back
    return index // 12, index % 12 + 1


def provider_jump(ctx: Context) -> Finding:
    """A provider's trainee-month claims of the claim's month against its own previous months."""
    claim, rule = ctx.claim, PROVIDER_JUMP
    label = "培训机构申报量无异常激增"
    if claim.org_id is None or claim.repeat_per != "trainee_month":
        return Finding("provider_jump", label, True, "不按学员月计发，不适用")
    first_year, first_month = _month(claim.decided_on, rule.months)
    rows = ctx.connection.execute(
        select(CLAIMS.c.decided_on, CLAIMS.c.units).where(
            CLAIMS.c.org_id == claim.org_id,
            CLAIMS.c.repeat_per == "trainee_month",
            CLAIMS.c.status.not_in(DEAD_STATUSES),
            CLAIMS.c.decided_on >= dt.date(first_year, first_month, 1),
            CLAIMS.c.decided_on <= claim.decided_on.replace(day=28) + dt.timedelta(days=4),
        )
    )
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for row in rows:
        totals[(row.decided_on.year, row.decided_on.month)] += int(row.units or 0)
    now = totals[_month(claim.decided_on)]
    history = [totals[_month(claim.decided_on, back)] for back in range(1, rule.months + 1)]
    median = statistics.median(history)
    month = f"{claim.decided_on.year} 年 {claim.decided_on.month} 月"
    if now >= rule.minimum and now > rule.factor * median:
        return Finding(
            "provider_jump",
            label,
            False,
            f"{month}申报 {now} 个学员月，超过此前 {rule.months} 个月中位数 {median:g} 的 {rule.factor} 倍"
            f"（且不少于 {rule.minimum}）：请核对花名册与考勤",
        )
    history_text = f"此前 {rule.months} 个月中位数 {median:g}"
    return Finding("provider_jump", label, True, f"{month}申报 {now} 个学员月，{history_text}")


def insured_workers(ctx: Context) -> Finding:
    """An organization claims per hire no more workers than the registry shows it insured."""
    claim = ctx.claim
    label = "申报人数不超过参保人数"
    if claim.org_id is None or claim.repeat_per != "hire":
        return Finding("insured_workers", label, True, "不按吸纳人数计发，不适用")
    first = int(claim.money_key.rsplit("#", 1)[1])
    last = first + int(claim.units or 1) - 1
    insured = int(
        ctx.connection.scalar(
            select(func.count(func.distinct(SPELLS.c.person_id))).where(
                SPELLS.c.employer_org_id == claim.org_id,
                SPELLS.c.social_insurance.is_(True),
                SPELLS.c.start_date <= claim.decided_on,
            )
        )
        or 0
    )
    if last > insured:
        return Finding(
            "insured_workers",
            label,
            False,
            f"本申报计至第 {last} 名吸纳人员，登记库中在本单位参加社会保险的务工人员只有 {insured} 人"
            "（按务工就业记录的用人单位与“是否缴纳社保”）",
        )
    return Finding("insured_workers", label, True, f"计至第 {last} 名吸纳人员，本单位登记参保的务工人员 {insured} 人")


def unrelated_sharers(connection: Connection, claim: Any, account_hmac: str) -> list[Any]:
    """Live claims of other, unrelated beneficiaries paid into the account whose keyed hash is
    ``account_hmac`` (accounts are stored encrypted, ADR 0035), from any county: persons of another
    household (or of none recorded), another organization, or a person and an organization."""
    household = None
    if claim.person_id is not None:
        household = connection.scalar(select(PERSONS.c.household_id).where(PERSONS.c.id == claim.person_id))
    rows = connection.execute(
        select(CLAIMS.c.id, CLAIMS.c.region_code, CLAIMS.c.person_id, CLAIMS.c.org_id, PERSONS.c.household_id)
        .outerjoin(PERSONS, PERSONS.c.id == CLAIMS.c.person_id)
        .where(
            CLAIMS.c.payee_account_hmac == account_hmac,
            CLAIMS.c.id != claim.id,
            CLAIMS.c.status.not_in(DEAD_STATUSES),
        )
        .order_by(CLAIMS.c.id)
    )
    found = []
    for row in rows:
        if claim.person_id is not None and row.person_id is not None:
            related = row.person_id == claim.person_id or (household is not None and row.household_id == household)
        else:
            related = claim.org_id is not None and row.org_id == claim.org_id
        if not related:
            found.append(row)
    return found


def shared_account(ctx: Context) -> Finding:
    return account_finding(ctx.connection, ctx.claim, ctx.claim.payee_account_hmac, ctx.claim.payee_account_tail)


def account_finding(connection: Connection, claim: Any, account_hmac: str | None, tail: str | None) -> Finding:
    """The ``shared_account`` rule for ``claim`` paid into the account of keyed hash ``account_hmac``
    and last digits ``tail`` (also when the account changes)."""
    label = "收款账户未被无关人员或单位共用"
    if not account_hmac:
        return Finding("shared_account", label, True, "尚未登记收款账户")
    sharers = unrelated_sharers(connection, claim, account_hmac)
    if sharers:
        shown = "、".join(
            f"申报 {s.id}（{name_of(s.region_code) or s.region_code}，"
            f"{'另一户的人员' if s.person_id is not None else '单位'}）"
            for s in sharers[:3]
        )
        more = f"等 {len(sharers)} 笔" if len(sharers) > 3 else ""
        return Finding(
            "shared_account",
            label,
            False,
            f"收款账号（尾号 {tail}）也用于{shown}{more}，这些对象与本对象不属同一户或同一单位",
        )
    return Finding("shared_account", label, True, "该收款账号未用于其他户或单位的申报")


RULES: tuple[Callable[[Context], Finding], ...] = (
    deceased,
    training_days,
    overlapping_trainings,
    provider_jump,
    insured_workers,
    shared_account,
)
