"""The proof that spending reconciles to the ledger (ADR 0035): ``bangfu ledger prove``.

Per year (of the claim's event date, the date reconciliation gives its ledger entry), fund and county,
three sums are computed independently and must be equal:

- **payments**: what the bank paid minus what it reversed — payment lines whose bank result is paid or
  reversed, minus those reversed (a reversed line that was re-issued keeps its bank result);
- **ledger**: the ``benefit_ledger`` entries reconciliation wrote, found through the payment lines that
  link them (``ledger_entry_id``, ``reversal_entry_id``), at their own amounts and dates;
- **budgets**: the budgets' paid column (claims paid, budgets.py).

Any reconciliation entry (source ``支付 BF…`` or ``退汇冲回 BF…``) that no payment line links is
listed too: it is money in the ledger that no payment explains.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, extract, func, or_, select

from bangfu.claims.budgets import PAID_STATUSES, claim_sums, county_label, fund_label
from bangfu.claims.drafting import LEDGER
from bangfu.claims.payments import PAYMENTS
from bangfu.claims.records import CLAIMS
from bangfu.core.money import format_yuan

Key = tuple[int, str, str]  # year, fund, county


@dataclass
class ProofLine:
    year: int
    fund: str
    county: str
    payments_fen: int = 0
    ledger_fen: int = 0
    budget_paid_fen: int = 0
    unreconciled_lines: int = 0

    @property
    def equal(self) -> bool:
        return self.payments_fen == self.ledger_fen == self.budget_paid_fen

    def difference(self) -> str:
        text = (
            f"{self.year} 年 {fund_label(self.fund)}（{self.fund}） {county_label(self.county)}："
            f"支付（成功减退汇）{format_yuan(self.payments_fen)}，已享受记录 {format_yuan(self.ledger_fen)}，"
            f"预算已支付 {format_yuan(self.budget_paid_fen)}"
        )
        if self.unreconciled_lines:
            text += f"；其中 {self.unreconciled_lines} 笔银行已回单尚未对账（请运行 bangfu payments reconcile）"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "fund": self.fund,
            "county": self.county,
            "payments_fen": self.payments_fen,
            "ledger_fen": self.ledger_fen,
            "budget_paid_fen": self.budget_paid_fen,
            "unreconciled_lines": self.unreconciled_lines,
            "equal": self.equal,
        }


@dataclass
class Proof:
    lines: list[ProofLine] = field(default_factory=list)
    unlinked: list[dict[str, Any]] = field(default_factory=list)

    @property
    def differences(self) -> list[ProofLine]:
        return [line for line in self.lines if not line.equal]

    @property
    def holds(self) -> bool:
        return not self.differences and not self.unlinked

    def as_json(self) -> dict[str, Any]:
        return {
            "holds": self.holds,
            "lines": [line.as_json() for line in self.lines],
            "differences": [line.as_json() for line in self.differences],
            "unlinked_ledger_entries": self.unlinked,
        }


def _year_of(value: Any) -> Any:
    return extract("year", value)


def prove(connection: Connection, *, year: int | None = None) -> Proof:
    lines: dict[Key, ProofLine] = {}

    def line(key: Key) -> ProofLine:
        return lines.setdefault(key, ProofLine(*key))

    claim_year = _year_of(CLAIMS.c.event_date)
    paid_gross = func.sum(PAYMENTS.c.amount_fen).filter(PAYMENTS.c.bank_status.in_(("paid", "reversed")))
    reversed_ = func.sum(PAYMENTS.c.amount_fen).filter(PAYMENTS.c.bank_status == "reversed")
    unreconciled = func.count().filter(PAYMENTS.c.status == "paid", PAYMENTS.c.ledger_entry_id.is_(None))
    query = (
        select(claim_year, CLAIMS.c.fund, CLAIMS.c.region_code, paid_gross, reversed_, unreconciled)
        .join(CLAIMS, CLAIMS.c.id == PAYMENTS.c.claim_id)
        .group_by(claim_year, CLAIMS.c.fund, CLAIMS.c.region_code)
    )
    for y, fund, county, gross, back, open_lines in connection.execute(query):
        if gross or back or open_lines:
            found = line((int(y), fund, county))
            found.payments_fen = int(gross or 0) - int(back or 0)
            found.unreconciled_lines = int(open_lines or 0)
    sums: dict[Key, int] = defaultdict(int)
    for column in (PAYMENTS.c.ledger_entry_id, PAYMENTS.c.reversal_entry_id):
        entry_year = _year_of(LEDGER.c.date)
        for y, fund, county, fen in connection.execute(
            select(entry_year, CLAIMS.c.fund, CLAIMS.c.region_code, func.sum(LEDGER.c.amount_fen))
            .select_from(PAYMENTS)
            .join(CLAIMS, CLAIMS.c.id == PAYMENTS.c.claim_id)
            .join(LEDGER, LEDGER.c.id == column)
            .group_by(entry_year, CLAIMS.c.fund, CLAIMS.c.region_code)
        ):
            sums[(int(y), fund, county)] += int(fen)
    for key, fen in sums.items():
        line(key).ledger_fen = fen
    for (county, fund, y), fen in claim_sums(connection, PAID_STATUSES, None, year).items():
        line((y, fund, county)).budget_paid_fen = fen
    linked = (
        select(PAYMENTS.c.ledger_entry_id)
        .where(PAYMENTS.c.ledger_entry_id.is_not(None))
        .union(select(PAYMENTS.c.reversal_entry_id).where(PAYMENTS.c.reversal_entry_id.is_not(None)))
    )
    unlinked = select(LEDGER).where(
        or_(LEDGER.c.source.like("支付 BF%"), LEDGER.c.source.like("退汇冲回 BF%")), LEDGER.c.id.not_in(linked)
    )
    if year is not None:
        unlinked = unlinked.where(_year_of(LEDGER.c.date) == year)
    proof = Proof(
        lines=[lines[k] for k in sorted(lines) if year is None or k[0] == year],
        unlinked=[
            {
                "ledger_entry": row.id,
                "benefit": row.benefit_id,
                "person_id": row.person_id,
                "org_id": row.org_id,
                "date": row.date.isoformat(),
                "amount_fen": row.amount_fen,
                "source": row.source,
            }
            for row in connection.execute(unlinked.order_by(LEDGER.c.id))
        ],
    )
    return proof
