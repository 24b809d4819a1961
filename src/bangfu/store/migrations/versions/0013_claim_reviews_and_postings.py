"""Deaths, city review and public posting (公示) of claims (issue 12; ADR 0034).

- ``persons.died_on`` / ``death_source``: a recorded death (the national download has no such column);
- ``claims``: the gates fixed at approval — ``city_review`` (NULL, ``pending``, ``passed``) with the
  reviewer, and ``posting_days`` with the days the claim was posted — and an index on
  ``payee_account`` for the shared-account check;
- ``county_claim_rules``: whether a county posts its approved claims, and for how many days;
- ``claim_objections``: objections raised while a claim was posted, and how each was resolved.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("persons", sa.Column("died_on", sa.Date()))
    op.add_column("persons", sa.Column("death_source", sa.String(200)))
    checked = {
        "city_review": (
            "VARCHAR(16)",
            "ck_claims_city_review",
            "city_review IS NULL OR city_review IN ('pending', 'passed')",
        ),
        "posting_days": ("INTEGER", "ck_claims_posting_days_positive", "posting_days IS NULL OR posting_days > 0"),
    }
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but takes one with the column (no table rebuild).
        for column, (kind, name, condition) in checked.items():
            op.execute(f"ALTER TABLE claims ADD COLUMN {column} {kind} CONSTRAINT {name} CHECK ({condition})")
    else:
        op.add_column("claims", sa.Column("city_review", sa.String(16)))
        op.add_column("claims", sa.Column("posting_days", sa.Integer()))
        for _, name, condition in checked.values():
            op.create_check_constraint(op.f(name), "claims", condition)
    op.add_column("claims", sa.Column("city_reviewer", sa.String(64)))
    op.add_column("claims", sa.Column("city_reviewed_at", sa.DateTime(timezone=True)))
    op.add_column("claims", sa.Column("posted_from", sa.Date()))
    op.add_column("claims", sa.Column("posted_until", sa.Date()))
    op.add_column("claims", sa.Column("open_objections", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_claims_payee_account", "claims", ["payee_account"])

    op.create_table(
        "county_claim_rules",
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("posting_days", sa.Integer()),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region_code", name="pk_county_claim_rules"),
        sa.CheckConstraint(
            "posting_days IS NULL OR posting_days > 0", name="ck_county_claim_rules_posting_days_positive"
        ),
    )
    op.create_table(
        "claim_objections",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "claim_id", ID, sa.ForeignKey("claims.id", name="fk_claim_objections_claim_id_claims"), nullable=False
        ),
        sa.Column("raised_by", sa.String(200), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_by", sa.String(64)),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolution", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_claim_objections"),
        sa.CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="ck_claim_objections_status"),
    )
    op.create_index("ix_claim_objections_claim_id", "claim_objections", ["claim_id"])


def downgrade() -> None:
    # On SQLite the batch rebuild of ``claims`` drops the table its payments, keys and events refer to:
    # with claims registered and foreign keys on (as Bangfu connects), SQLite refuses it. Downgrading a
    # SQLite database below 0013 therefore needs no claims registered (known limit, ADR 0034).
    op.drop_index("ix_claim_objections_claim_id", table_name="claim_objections")
    op.drop_table("claim_objections")
    op.drop_table("county_claim_rules")
    op.drop_index("ix_claims_payee_account", table_name="claims")
    with op.batch_alter_table("claims") as claims:
        claims.drop_constraint(op.f("ck_claims_posting_days_positive"), type_="check")
        claims.drop_constraint(op.f("ck_claims_city_review"), type_="check")
        for column in (
            "open_objections",
            "posted_until",
            "posted_from",
            "posting_days",
            "city_reviewed_at",
            "city_reviewer",
            "city_review",
        ):
            claims.drop_column(column)
    for column in ("death_source", "died_on"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE persons DROP COLUMN {column}")
        else:
            op.drop_column("persons", column)
