"""The ledger says how many units of its repeat key an entry paid (ADR 0015).

- ``benefit_ledger.units``: for a benefit paid per unit (培训日, 以工代训学员月, 吸纳人数, 输出人数),
  how many units the entry paid; a correction carries the negative count, as it carries the negative
  amount. Empty for entries written before (their count is unknown: a rule that needs it answers
  "需补充信息", never pays again), and for benefits paid once per person or year.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("benefit_ledger", sa.Column("units", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("benefit_ledger") as batch:
        batch.drop_column("units")
