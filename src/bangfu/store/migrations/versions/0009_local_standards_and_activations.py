"""Local standards and programme activations (ADR 0023).

- ``local_standards``: a value a city or county set for a standard its level owns, with the local
  document (number, title), who set it and when, and the audit entry written before it;
- ``policy_activations``: a programme package (a folder of ``BANGFU_POLICY_DIR``) switched on or off
  by a province administrator, with the hash of its files when it was checked.

``audit_id`` names the audit entry written first in the same transaction; it is not a foreign key, since
PostgreSQL would then refuse TRUNCATE of ``audit_log`` for its own reason, ahead of the log's guards.

Both are histories: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), so a value once
set stays readable and a standard is changed only by setting the next one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("local_standards", "policy_activations")
REFUSAL = "{table} 只可追加，不可修改、删除或清空：新的标准或启用状态请另写一行"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _append_only(table: str) -> None:
    refusal = REFUSAL.format(table=table)
    if _postgresql():
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{refusal}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
        )


def upgrade() -> None:
    op.create_table(
        "local_standards",
        sa.Column("id", ID, nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("parameter_key", sa.String(length=128), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("document_number", sa.String(length=128), nullable=False),
        sa.Column("document_title", sa.String(length=255), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_local_standards_end_not_before_start")
        ),
        sa.CheckConstraint("value >= 0", name=op.f("ck_local_standards_value_not_negative")),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_local_standards_region_code_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_standards")),
    )
    op.create_index(
        op.f("ix_local_standards_document_id_parameter_key_region_code"),
        "local_standards",
        ["document_id", "parameter_key", "region_code"],
    )
    op.create_table(
        "policy_activations",
        sa.Column("id", ID, nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("folder", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_activations")),
    )
    op.create_index(op.f("ix_policy_activations_document_id_id"), "policy_activations", ["document_id", "id"])
    for table in TABLES:
        _append_only(table)


def downgrade() -> None:
    for table in TABLES:
        if _postgresql():
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION {table}_append_only()")
        else:
            op.execute(f"DROP TRIGGER {table}_no_update")
            op.execute(f"DROP TRIGGER {table}_no_delete")
        op.drop_table(table)
