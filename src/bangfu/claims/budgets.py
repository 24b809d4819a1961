"""Budgets per county, fund and year, and what approvals commit against them (ADR 0035).

A claim counts against the budget of its county (``claims.region_code``), its fund and the year of
its event date (the year the benefit pays for; the ledger entry reconciliation writes carries the
same date, so budgets, payments and the ledger are compared on one calendar).

- **committed**: claims approved, batched, paid or failed. A failed claim still holds its money: it
  waits to be re-issued to a corrected account and is not rejected from that state, so its re-issue
  never needs the money again. Claims drafted, checked, returned, rejected or withdrawn hold none.
- **paid**: claims paid (a reversal moves the claim back to failed, so it leaves ``paid``).
- **remaining**: allocated minus committed.

An approval locks the budget row (``SELECT … FOR UPDATE``; SQLite has one writer at a time), adds
what is committed and refuses the claim that would pass the allocation, so two concurrent approvals
cannot both take the last money. A county, fund and year without a budget approves nothing:
the budget law (预算法 第十三条) allows no spending that is not in a budget.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, extract, func, insert, select, update

from bangfu.audit import log as audit
from bangfu.claims.records import CLAIMS, ClaimError, now
from bangfu.core import regions
from bangfu.core.money import format_yuan
from bangfu.policy.model import FUNDS
from bangfu.store.claim_tables import Budget, BudgetChange

BUDGETS = cast(Table, Budget.__table__)
CHANGES = cast(Table, BudgetChange.__table__)
COMMITTED_STATUSES = ("approved", "batched", "paid", "failed")
PAID_STATUSES = ("paid",)
MIN_YEAR, MAX_YEAR = 2000, 2100


class BudgetError(ClaimError):
    """A budget refused, or an approval refused by its budget, with the reason in Chinese."""


def fund_label(fund: str) -> str:
    return FUNDS.get(fund, fund)


def county_label(code: str) -> str:
    return f"{regions.name_of(code) or code}（{code}）"


def _year_span(year: int) -> Any:
    return and_(CLAIMS.c.event_date >= dt.date(year, 1, 1), CLAIMS.c.event_date <= dt.date(year, 12, 31))


def committed_fen(connection: Connection, region: str, fund: str, year: int, *, without: int | None = None) -> int:
    query = select(func.coalesce(func.sum(CLAIMS.c.amount_fen), 0)).where(
        CLAIMS.c.region_code == region,
        CLAIMS.c.fund == fund,
        CLAIMS.c.status.in_(COMMITTED_STATUSES),
        _year_span(year),
    )
    if without is not None:
        query = query.where(CLAIMS.c.id != without)
    return int(connection.scalar(query) or 0)


def _locked(connection: Connection, region: str, fund: str, year: int) -> Any:
    return connection.execute(
        select(BUDGETS)
        .where(BUDGETS.c.region_code == region, BUDGETS.c.fund == fund, BUDGETS.c.year == year)
        .with_for_update()
    ).one_or_none()


def check_approval(connection: Connection, claim: Any) -> None:
    """Refuse the approval of ``claim`` when its budget is missing or has less left than the claim
    asks; holds the budget row's lock until the caller's transaction ends."""
    year = claim.event_date.year
    where = f"{county_label(claim.region_code)} {year} 年{fund_label(claim.fund)}"
    budget = _locked(connection, claim.region_code, claim.fund, year)
    if budget is None:
        raise BudgetError(
            f"{where}尚未设定预算，不能批准申报 {claim.id}（{format_yuan(claim.amount_fen)}）："
            "请市级或省级账户先用 bangfu budgets set 设定该县该资金该年度的预算"
        )
    committed = committed_fen(connection, claim.region_code, claim.fund, year, without=claim.id)
    remaining = budget.amount_fen - committed
    if claim.amount_fen > remaining:
        raise BudgetError(
            f"批准申报 {claim.id}（{format_yuan(claim.amount_fen)}）将超出{where}预算："
            f"预算 {format_yuan(budget.amount_fen)}，已承诺 {format_yuan(committed)}，"
            f"剩余 {format_yuan(remaining)}。未批准；请追加预算，或退回、驳回其他申报后再批准"
        )


@dataclass(frozen=True)
class Scope:
    """Who may set budgets for which counties: province and city accounts, within their region."""

    actor: str
    role: str
    region_code: str

    def allows(self, county: str) -> bool:
        if self.role == "province":
            return True
        return self.role == "city" and county.startswith(self.region_code[:4])


def set_budget(
    connection: Connection,
    *,
    region: str,
    fund: str,
    year: int,
    amount_fen: int,
    scope: Scope,
    reason: str | None = None,
) -> int:
    """Allocate or change a budget; the change is kept in ``budget_changes`` with its audit entry.
    Refused below what is already committed. Returns the budget's id."""
    if fund not in FUNDS or fund == "none":
        usable = "、".join(f"{k}（{v}）" for k, v in FUNDS.items() if k != "none")
        raise BudgetError(f"资金 {fund!r} 不存在或不需要预算；可用的有：{usable}")
    found = regions.get(region)
    if found is None or found.level != "county":
        raise BudgetError(f"--county {region!r} 不是县级行政区划代码（6 位，如 141123 兴县）")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BudgetError(f"年度 {year} 不合理：应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    if amount_fen < 0:
        raise BudgetError("预算金额不能为负数")
    if not scope.allows(region):
        raise BudgetError(
            f"账户 {scope.actor} 不能设定{county_label(region)}的预算：只有省级账户或该县所属市的市级账户可以设定"
        )
    budget = _locked(connection, region, fund, year)
    committed = committed_fen(connection, region, fund, year)
    if amount_fen < committed:
        raise BudgetError(
            f"{county_label(region)} {year} 年{fund_label(fund)}已承诺 {format_yuan(committed)}，"
            f"预算不能设为 {format_yuan(amount_fen)}：不能低于已承诺的金额"
        )
    at = now()
    before = None if budget is None else int(budget.amount_fen)
    if budget is None:
        budget_id = int(
            connection.execute(
                insert(BUDGETS)
                .values(
                    region_code=region,
                    fund=fund,
                    year=year,
                    amount_fen=amount_fen,
                    updated_by=scope.actor,
                    updated_at=at,
                )
                .returning(BUDGETS.c.id)
            ).scalar_one()
        )
    else:
        budget_id = int(budget.id)
        connection.execute(
            update(BUDGETS)
            .where(BUDGETS.c.id == budget_id)
            .values(amount_fen=amount_fen, updated_by=scope.actor, updated_at=at)
        )
    audit_id = audit.record(
        connection,
        actor=scope.actor,
        action="budget.set",
        target_type="budget",
        target_id=budget_id,
        region_code=region,
        before=None if before is None else {"amount_fen": before},
        after={"fund": fund, "year": year, "amount_fen": amount_fen, "reason": reason},
        at=at,
    )
    connection.execute(
        insert(CHANGES).values(
            budget_id=budget_id,
            before_fen=before,
            after_fen=amount_fen,
            actor=scope.actor,
            at=at,
            reason=reason,
            audit_id=audit_id,
        )
    )
    return budget_id


@dataclass
class BudgetLine:
    region_code: str
    fund: str
    year: int
    allocated_fen: int | None  # None: claims committed without a budget (approved before budgets existed)
    committed_fen: int = 0
    paid_fen: int = 0

    @property
    def remaining_fen(self) -> int | None:
        return None if self.allocated_fen is None else self.allocated_fen - self.committed_fen

    def as_json(self) -> dict[str, Any]:
        return {
            "county": self.region_code,
            "county_name": regions.name_of(self.region_code),
            "fund": self.fund,
            "fund_name": fund_label(self.fund),
            "year": self.year,
            "allocated_fen": self.allocated_fen,
            "committed_fen": self.committed_fen,
            "paid_fen": self.paid_fen,
            "remaining_fen": self.remaining_fen,
        }


def claim_sums(connection: Connection, statuses: tuple[str, ...], region: str | None, year: int | None) -> Any:
    """Sum of claim amounts per county, fund and event year, for claims in ``statuses``."""
    claim_year = extract("year", CLAIMS.c.event_date)
    query = (
        select(CLAIMS.c.region_code, CLAIMS.c.fund, claim_year.label("year"), func.sum(CLAIMS.c.amount_fen))
        .where(CLAIMS.c.status.in_(statuses))
        .group_by(CLAIMS.c.region_code, CLAIMS.c.fund, claim_year)
    )
    if region is not None:
        query = query.where(CLAIMS.c.region_code.startswith(region, autoescape=True))
    if year is not None:
        query = query.where(_year_span(year))
    return {(r[0], r[1], int(r[2])): int(r[3]) for r in connection.execute(query)}


def summary(connection: Connection, *, region: str | None = None, year: int | None = None) -> list[BudgetLine]:
    """Every budget (of counties under ``region``, of ``year``) with what is committed, paid and left,
    and any county, fund and year with committed claims but no budget."""
    query = select(BUDGETS)
    if region is not None:
        query = query.where(BUDGETS.c.region_code.startswith(region, autoescape=True))
    if year is not None:
        query = query.where(BUDGETS.c.year == year)
    lines = {
        (b.region_code, b.fund, int(b.year)): BudgetLine(b.region_code, b.fund, int(b.year), int(b.amount_fen))
        for b in connection.execute(query)
    }
    for key, fen in claim_sums(connection, COMMITTED_STATUSES, region, year).items():
        lines.setdefault(key, BudgetLine(key[0], key[1], key[2], None)).committed_fen = fen
    for key, fen in claim_sums(connection, PAID_STATUSES, region, year).items():
        lines.setdefault(key, BudgetLine(key[0], key[1], key[2], None)).paid_fen = fen
    return [lines[k] for k in sorted(lines)]
