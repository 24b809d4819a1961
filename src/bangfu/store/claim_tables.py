"""Claims, their decisions and their payments (migrations 0012 and 0013; ADRs 0031 and 0034).

The money key: every live claim holds one ``claim_money_keys`` row per unit it pays for (the whole
benefit for once-per-person or per-year kinds, the n-th day, month or hire for per-unit kinds), and a
partial unique index over the live rows makes a second live claim under the same key impossible in
the database, from any county. ``live`` is cleared in the transaction that rejects or withdraws the
claim, so a refused claim frees its key. Money is integer fen.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bangfu.store.tables import Base, Id, one_of

CLAIM_STATUSES = ("drafted", "checked", "returned", "approved", "batched", "paid", "failed", "rejected", "withdrawn")
# A claim in one of these no longer holds its money key.
DEAD_STATUSES = ("rejected", "withdrawn")
BATCH_STATUSES = ("built", "approved", "exported", "returned", "reconciled")
PAYMENT_STATUSES = ("pending", "paid", "failed", "reversed", "reissued")
BENEFICIARY_KINDS = ("person", "organization")
CITY_REVIEWS = ("pending", "passed")
# ``open`` holds the claim out of every batch; ``upheld`` returned or rejected it; ``dismissed`` let it go on.
OBJECTION_STATUSES = ("open", "upheld", "dismissed")


class Claim(Base):
    """One benefit claimed for one person or organization, with the engine's answer as decided."""

    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint(one_of("status", CLAIM_STATUSES), name="status"),
        CheckConstraint(one_of("beneficiary_kind", BENEFICIARY_KINDS), name="beneficiary_kind"),
        CheckConstraint(
            "(person_id IS NULL AND org_id IS NOT NULL) OR (person_id IS NOT NULL AND org_id IS NULL)",
            name="one_beneficiary",
        ),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("approver IS NULL OR approver <> maker", name="approver_not_maker"),
        Index(None, "status", "region_code", "fund"),
        CheckConstraint(f"city_review IS NULL OR {one_of('city_review', CITY_REVIEWS)}", name="city_review"),
        CheckConstraint("posting_days IS NULL OR posting_days > 0", name="posting_days_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    beneficiary_kind: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The county whose staff decide it (the beneficiary's county when drafted).
    region_code: Mapped[str] = mapped_column(String(12))
    document_id: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the document's package files as decided, when known: a later edit never rewrites history.
    document_version: Mapped[str | None] = mapped_column(String(64))
    benefit_id: Mapped[str] = mapped_column(String(64))
    fund: Mapped[str] = mapped_column(String(32))
    repeat_per: Mapped[str] = mapped_column(String(16))
    # The day the benefit pays for (the engine's event date, else the day it decided for).
    event_date: Mapped[dt.date] = mapped_column(Date)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # Per-unit kinds: the units paid (days, trainee-months, hires); NULL for whole-beneficiary kinds.
    units: Mapped[int | None] = mapped_column(BigInteger)
    # The first money key, for reading; claim_money_keys holds them all.
    money_key: Mapped[str] = mapped_column(String(255))
    # JSON: the engine's benefit answer (reasons, conditions) and the parameter values it used.
    explanation: Mapped[str] = mapped_column(Text)
    parameters: Mapped[str] = mapped_column(Text)
    # JSON list of the auto-checks' findings (name, passed, reason); NULL before the checks ran.
    check_results: Mapped[str | None] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16))
    # Where the money goes. The account number is stored encrypted (ADR 0035, core/account_cipher):
    # AES-GCM token, its keyed hash (HMAC, for equality: one account shared by several claimants) and
    # the last four digits (what every screen shows). Decrypted only to write the bank file.
    payee_name: Mapped[str | None] = mapped_column(String(200))
    payee_account_cipher: Mapped[str | None] = mapped_column(String(128))
    payee_account_hmac: Mapped[str | None] = mapped_column(String(64), index=True)
    payee_account_tail: Mapped[str | None] = mapped_column(String(4))
    payee_bank: Mapped[str | None] = mapped_column(String(200))
    maker: Mapped[str] = mapped_column(String(64))
    approver: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Gates after approval (migration 0013, ADR 0034), fixed when the claim is approved so a later
    # change of the threshold or of the county's rule does not change a claim already decided:
    # ``city_review`` NULL (not needed), ``pending`` or ``passed``, and who passed it when;
    # ``posting_days`` NULL (the county posts nothing) or the 公示 period, ``posted_from``–``posted_until``
    # the days it was posted (both included). A claim is batched only when every gate is open.
    city_review: Mapped[str | None] = mapped_column(String(16))
    city_reviewer: Mapped[str | None] = mapped_column(String(64))
    city_reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    posting_days: Mapped[int | None]
    posted_from: Mapped[dt.date | None] = mapped_column(Date)
    posted_until: Mapped[dt.date | None] = mapped_column(Date)
    # Objections of the 公示 not yet resolved, kept on the claim's own row so that recording one and
    # building a batch serialize on the row lock (an EXISTS on another table would not be rechecked).
    open_objections: Mapped[int] = mapped_column(default=0, server_default="0")


class CountyClaimRule(Base):
    """A county's own rule for its claims: whether approved claims are publicly posted (公示) and how long."""

    __tablename__ = "county_claim_rules"
    __table_args__ = (CheckConstraint("posting_days IS NULL OR posting_days > 0", name="posting_days_positive"),)

    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    # NULL: the county does not post its claims.
    posting_days: Mapped[int | None]
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ClaimObjection(Base):
    """An objection raised while a claim was posted: who, when, what, and how it was resolved."""

    __tablename__ = "claim_objections"
    __table_args__ = (CheckConstraint(one_of("status", OBJECTION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    # Who objected, as they gave it (a name, a village, "匿名"), and the day they did.
    raised_by: Mapped[str] = mapped_column(String(200))
    raised_on: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[str] = mapped_column(Text)
    # The account that recorded it, and when.
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(Text)


class ClaimMoneyKey(Base):
    """One unit a claim pays for under its benefit's repeat key; unique among live claims everywhere."""

    __tablename__ = "claim_money_keys"
    __table_args__ = (
        Index(
            "uq_claim_money_keys_live",
            "money_key",
            unique=True,
            postgresql_where=text("live"),
            sqlite_where=text("live"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    money_key: Mapped[str] = mapped_column(String(255))
    live: Mapped[bool] = mapped_column(default=True)


class ClaimEvent(Base):
    """Every transition of a claim: who, when, from what to what, and why (what auditors read)."""

    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    # The audit entry written in the same transaction (not a foreign key, like local_standards.audit_id).
    audit_id: Mapped[int] = mapped_column(BigInteger)


class PaymentBatch(Base):
    """Approved claims of one fund and county, paid through one payer bank."""

    __tablename__ = "payment_batches"
    __table_args__ = (
        CheckConstraint(one_of("status", BATCH_STATUSES), name="status"),
        CheckConstraint("approver IS NULL OR approver <> maker", name="approver_not_maker"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    fund: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(12))
    payer_bank: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the batch's lines when approved: the bank file is written only while they still match.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    maker: Mapped[str] = mapped_column(String(64))
    approver: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    exported_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Payment(Base):
    """One line of a batch: one claim, one unique payment reference, and what the bank returned."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        # At most one line of a claim is waiting or paid: a second payment of a claim cannot exist.
        Index(
            "uq_payments_claim_open",
            "claim_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'paid')"),
            sqlite_where=text("status IN ('pending', 'paid')"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batches.id"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payee_name: Mapped[str] = mapped_column(String(200))
    # Copied from the claim as sealed (ADR 0035): the batch is built without the key.
    payee_account_cipher: Mapped[str] = mapped_column(String(128))
    payee_account_hmac: Mapped[str] = mapped_column(String(64))
    payee_account_tail: Mapped[str] = mapped_column(String(4))
    payee_bank: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    # As the bank's return file gave them.
    bank_status: Mapped[str | None] = mapped_column(String(32))
    bank_message: Mapped[str | None] = mapped_column(Text)
    bank_date: Mapped[dt.date | None] = mapped_column(Date)
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The benefit_ledger entry a paid line wrote (and for a reversal, the negative one).
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_ledger.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_ledger.id"))
    reissue_of: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))


class Budget(Base):
    """What a county may spend from one fund in one year (migration 0014; ADR 0035).

    One row per county, fund and year, the row an approval locks (``SELECT … FOR UPDATE``) while it
    adds up what is committed, so two approvals cannot both take the last money. Its changes are
    kept in ``budget_changes``.
    """

    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint("region_code", "fund", "year"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12))
    fund: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class BudgetChange(Base):
    """Every allocation and change of a budget: before, after, who, when, why; never updated."""

    __tablename__ = "budget_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id"), index=True)
    before_fen: Mapped[int | None] = mapped_column(BigInteger)
    after_fen: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    audit_id: Mapped[int] = mapped_column(BigInteger)
