"""Claims, claim events, payment batches and payments (issue 12; ADR 0031).

- ``claims``: one benefit claimed for one person or organization, with the engine's explanation, the
  parameter values and the document version as decided, its status, maker and approver;
- ``claim_money_keys``: the units a claim pays for under its benefit's repeat key; a partial unique
  index over the live rows (``WHERE live``, on PostgreSQL and SQLite alike) refuses a second live
  claim under the same key, whatever county drafts it;
- ``claim_events``: every transition, with actor, time and reason;
- ``payment_batches`` and ``payments``: the lines sent to a payer bank, each with a unique reference,
  and what the bank returned; a partial unique index allows one waiting-or-paid line per claim.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CLAIM_STATUSES = ("drafted", "checked", "returned", "approved", "batched", "paid", "failed", "rejected", "withdrawn")
BATCH_STATUSES = ("built", "approved", "exported", "returned", "reconciled")
PAYMENT_STATUSES = ("pending", "paid", "failed", "reversed", "reissued")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _stamp(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", ID, primary_key=True),
        sa.Column("beneficiary_kind", sa.String(16), nullable=False),
        sa.Column("person_id", ID, sa.ForeignKey("persons.id", name="fk_claims_person_id_persons")),
        sa.Column("org_id", ID, sa.ForeignKey("organizations.id", name="fk_claims_org_id_organizations")),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("document_version", sa.String(64)),
        sa.Column("benefit_id", sa.String(64), nullable=False),
        sa.Column("fund", sa.String(32), nullable=False),
        sa.Column("repeat_per", sa.String(16), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger()),
        sa.Column("money_key", sa.String(255), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("check_results", sa.Text()),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payee_name", sa.String(200)),
        sa.Column("payee_account", sa.String(64)),
        sa.Column("payee_bank", sa.String(200)),
        sa.Column("maker", sa.String(64), nullable=False),
        sa.Column("approver", sa.String(64)),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_claims"),
        sa.CheckConstraint(_one_of("status", CLAIM_STATUSES), name="ck_claims_status"),
        sa.CheckConstraint(_one_of("beneficiary_kind", ("person", "organization")), name="ck_claims_beneficiary_kind"),
        sa.CheckConstraint(
            "(person_id IS NULL AND org_id IS NOT NULL) OR (person_id IS NOT NULL AND org_id IS NULL)",
            name="ck_claims_one_beneficiary",
        ),
        sa.CheckConstraint("amount_fen > 0", name="ck_claims_amount_positive"),
        sa.CheckConstraint("approver IS NULL OR approver <> maker", name="ck_claims_approver_not_maker"),
    )
    op.create_index("ix_claims_person_id", "claims", ["person_id"])
    op.create_index("ix_claims_org_id", "claims", ["org_id"])
    op.create_index("ix_claims_status_region_code_fund", "claims", ["status", "region_code", "fund"])

    op.create_table(
        "claim_money_keys",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "claim_id", ID, sa.ForeignKey("claims.id", name="fk_claim_money_keys_claim_id_claims"), nullable=False
        ),
        sa.Column("money_key", sa.String(255), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_claim_money_keys"),
    )
    op.create_index("ix_claim_money_keys_claim_id", "claim_money_keys", ["claim_id"])
    op.create_index(
        "uq_claim_money_keys_live",
        "claim_money_keys",
        ["money_key"],
        unique=True,
        postgresql_where=sa.text("live"),
        sqlite_where=sa.text("live"),
    )

    op.create_table(
        "claim_events",
        sa.Column("id", ID, primary_key=True),
        sa.Column("claim_id", ID, sa.ForeignKey("claims.id", name="fk_claim_events_claim_id_claims"), nullable=False),
        _stamp("at"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_claim_events"),
    )
    op.create_index("ix_claim_events_claim_id", "claim_events", ["claim_id"])

    op.create_table(
        "payment_batches",
        sa.Column("id", ID, primary_key=True),
        sa.Column("fund", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("payer_bank", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("maker", sa.String(64), nullable=False),
        sa.Column("approver", sa.String(64)),
        _stamp("created_at"),
        _stamp("approved_at", nullable=True),
        _stamp("exported_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_payment_batches"),
        sa.CheckConstraint(_one_of("status", BATCH_STATUSES), name="ck_payment_batches_status"),
        sa.CheckConstraint("approver IS NULL OR approver <> maker", name="ck_payment_batches_approver_not_maker"),
    )

    op.create_table(
        "payments",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "batch_id",
            ID,
            sa.ForeignKey("payment_batches.id", name="fk_payments_batch_id_payment_batches"),
            nullable=False,
        ),
        sa.Column("claim_id", ID, sa.ForeignKey("claims.id", name="fk_payments_claim_id_claims"), nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("payee_name", sa.String(200), nullable=False),
        sa.Column("payee_account", sa.String(64), nullable=False),
        sa.Column("payee_bank", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bank_status", sa.String(32)),
        sa.Column("bank_message", sa.Text()),
        sa.Column("bank_date", sa.Date()),
        _stamp("returned_at", nullable=True),
        sa.Column(
            "ledger_entry_id", ID, sa.ForeignKey("benefit_ledger.id", name="fk_payments_ledger_entry_id_benefit_ledger")
        ),
        sa.Column(
            "reversal_entry_id",
            ID,
            sa.ForeignKey("benefit_ledger.id", name="fk_payments_reversal_entry_id_benefit_ledger"),
        ),
        sa.Column("reissue_of", ID, sa.ForeignKey("payments.id", name="fk_payments_reissue_of_payments")),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.UniqueConstraint("reference", name="uq_payments_reference"),
        sa.CheckConstraint(_one_of("status", PAYMENT_STATUSES), name="ck_payments_status"),
        sa.CheckConstraint("amount_fen > 0", name="ck_payments_amount_positive"),
    )
    op.create_index("ix_payments_batch_id", "payments", ["batch_id"])
    op.create_index("ix_payments_claim_id", "payments", ["claim_id"])
    op.create_index(
        "uq_payments_claim_open",
        "payments",
        ["claim_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('pending', 'paid')"),
        sqlite_where=sa.text("status IN ('pending', 'paid')"),
    )


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_table("payment_batches")
    op.drop_table("claim_events")
    op.drop_table("claim_money_keys")
    op.drop_table("claims")
