"""A second-factor code is accepted once (ADR 0011, docs/security.md).

- ``users.totp_last_step``: the RFC 6238 time step (30-second count since 1970) of the last code the
  account signed in with. A code of that step or an earlier one is refused, so a code seen over a
  shoulder or in a proxy log cannot be used again within its 90-second window. Empty until the next
  sign-in with a code.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Not a batch (copy-and-rename) on SQLite: that would drop the triggers migration 0005 put on
    # users. Both back ends drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE users DROP COLUMN totp_last_step")
