"""Budgets per county, fund and year, and payee account numbers encrypted at rest (ADR 0035).

- ``budgets``: one row per county, fund and year (what an approval locks), ``budget_changes``: every
  allocation and change with before, after, actor, time, reason and its audit entry;
- ``claims`` and ``payments``: ``payee_account`` (plain) becomes ``payee_account_cipher`` (AES-GCM),
  ``payee_account_hmac`` (keyed hash, for equality) and ``payee_account_tail`` (last four digits).
  Existing account numbers are encrypted here with the key the platform would use
  (``Settings.account_cipher``): in production, rows to encrypt and no key configured stop the
  migration with a message, before anything changed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bangfu.core.account_cipher import AccountCipher, AccountKeyError, cipher_for, key_from_env

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NEW_COLUMNS = (("payee_account_cipher", 128), ("payee_account_hmac", 64), ("payee_account_tail", 4))


def _cipher() -> AccountCipher:
    """The cipher the platform would use (``Settings.account_cipher``), read from the environment
    here because store code does not import settings (tests/test_layering.py)."""
    production = (os.environ.get("BANGFU_ENV") or "").strip().lower() == "production"
    return cipher_for(key_from_env(os.environ), production=production)


def _plain_rows(connection: sa.Connection, table: str) -> list[tuple[int, str]]:
    rows = connection.execute(
        sa.text(f"SELECT id, payee_account FROM {table} WHERE payee_account IS NOT NULL AND payee_account <> ''")
    ).all()
    return [(int(r[0]), str(r[1])) for r in rows]


def _batch_hash(batch: Any, lines: Sequence[Any], account: dict[int, str]) -> str:
    """payments.content_hash as of this revision, the account written as ``account[line id]``."""
    content = {
        "fund": batch.fund,
        "region": batch.region_code,
        "payer_bank": batch.payer_bank,
        "lines": [
            [p.reference, p.claim_id, p.amount_fen, p.payee_name, account[p.id], p.payee_bank]
            for p in sorted(lines, key=lambda p: p.reference)
        ],
    }
    # audit.log.canonical_json as of this revision.
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _rehash(connection: sa.Connection, before: dict[int, str], after: dict[int, str]) -> None:
    """An approved batch's hash covered the plain number (0012); now its keyed hash. A batch whose
    lines still match the old hash gets the new one; one that does not stays refused at export."""
    batches = connection.execute(sa.text("SELECT * FROM payment_batches WHERE content_hash IS NOT NULL")).all()
    for batch in batches:
        lines = connection.execute(sa.text("SELECT * FROM payments WHERE batch_id = :b"), {"b": batch.id}).all()
        if _batch_hash(batch, lines, before) == batch.content_hash:
            connection.execute(
                sa.text("UPDATE payment_batches SET content_hash = :h WHERE id = :id"),
                {"h": _batch_hash(batch, lines, after), "id": batch.id},
            )


def upgrade() -> None:
    connection = op.get_bind()
    plain = {table: _plain_rows(connection, table) for table in ("claims", "payments")}
    cipher = AccountCipher(bytes(32))  # not used unless there are rows to encrypt
    if any(plain.values()):
        try:
            cipher = _cipher()
        except AccountKeyError as exc:
            count = sum(len(rows) for rows in plain.values())
            raise RuntimeError(f"数据库中有 {count} 个明文收款账号需要加密，但{exc}") from None
    op.create_table(
        "budgets",
        sa.Column("id", ID, primary_key=True),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("fund", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budgets"),
        sa.UniqueConstraint("region_code", "fund", "year", name="uq_budgets_region_code_fund_year"),
        sa.CheckConstraint("amount_fen >= 0", name="ck_budgets_amount_not_negative"),
    )
    op.create_table(
        "budget_changes",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "budget_id", ID, sa.ForeignKey("budgets.id", name="fk_budget_changes_budget_id_budgets"), nullable=False
        ),
        sa.Column("before_fen", sa.BigInteger()),
        sa.Column("after_fen", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budget_changes"),
    )
    op.create_index("ix_budget_changes_budget_id", "budget_changes", ["budget_id"])
    sqlite = connection.dialect.name == "sqlite"
    for table in ("claims", "payments"):
        required = table == "payments"
        for name, length in NEW_COLUMNS:
            # SQLite adds a NOT NULL column only with a default; PostgreSQL drops it again below.
            op.add_column(
                table,
                sa.Column(name, sa.String(length), nullable=not required, server_default="" if required else None),
            )
        for row_id, account in plain[table]:
            sealed = cipher.seal(account)
            connection.execute(
                sa.text(
                    f"UPDATE {table} SET payee_account_cipher = :c, payee_account_hmac = :h, "
                    "payee_account_tail = :t WHERE id = :id"
                ),
                {"c": sealed.cipher, "h": sealed.hmac, "t": sealed.tail, "id": row_id},
            )
        if table == "payments" and plain[table]:
            hashed = {row_id: cipher.lookup(account) for row_id, account in plain[table]}
            _rehash(connection, dict(plain[table]), hashed)
        if table == "claims":
            # Migration 0013's index for the shared-account check; that check now compares keyed hashes.
            op.drop_index("ix_claims_payee_account", table_name="claims")
        op.execute(f"ALTER TABLE {table} DROP COLUMN payee_account")
        if required and not sqlite:
            for name, _ in NEW_COLUMNS:
                op.alter_column(table, name, server_default=None)
    op.create_index("ix_claims_payee_account_hmac", "claims", ["payee_account_hmac"])


def downgrade() -> None:
    connection = op.get_bind()
    op.drop_index("ix_claims_payee_account_hmac", table_name="claims")
    sealed = {
        table: connection.execute(
            sa.text(f"SELECT id, payee_account_cipher FROM {table} WHERE payee_account_cipher IS NOT NULL")
        ).all()
        for table in ("claims", "payments")
    }
    cipher = _cipher() if any(sealed.values()) else AccountCipher(bytes(32))
    for table in ("claims", "payments"):
        default = "" if table == "payments" else None
        op.add_column(table, sa.Column("payee_account", sa.String(64), server_default=default))
        for row_id, token in sealed[table]:
            connection.execute(
                sa.text(f"UPDATE {table} SET payee_account = :a WHERE id = :id"),
                {"a": cipher.open(token), "id": row_id},
            )
        if table == "payments" and sealed[table]:
            rows = connection.execute(sa.text("SELECT id, payee_account_hmac FROM payments")).all()
            hashes: dict[int, str] = {int(r[0]): str(r[1]) for r in rows}
            plain = {row_id: cipher.open(token) for row_id, token in sealed[table]}
            _rehash(connection, hashes, plain)
        for name, _ in NEW_COLUMNS:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
        if table == "claims":
            op.create_index("ix_claims_payee_account", "claims", ["payee_account"])
    op.drop_index("ix_budget_changes_budget_id", table_name="budget_changes")
    op.drop_table("budget_changes")
    op.drop_table("budgets")
