"""The platform: accounts, sessions, sign-in attempts, the hash-chained audit log, dashboard figures;
persons' township; an employment spell's organized export may be unknown.

- ``users``, ``auth_sessions`` (page cookies and API tokens, stored as SHA-256), ``login_attempts``;
- ``audit_log`` with ``audit_head`` (its single row, seeded here, is the chain's tail and the lock
  appenders take); triggers refuse UPDATE and DELETE on ``audit_log`` on both back ends;
- ``dashboard_figures``: counts per finest region, refreshed after loads;
- ``persons.township_code`` (nullable, indexed): the township whose assistants see the person;
- ``employment_spells.organized_export`` becomes nullable: a blank in an import is unknown, not 否.
  SQLite cannot alter a column, so batch mode rebuilds ``employment_spells`` (no table refers to it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS_HASH = "0" * 64
REFUSAL = "audit_log 只可追加，不可修改或删除"


def _append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("can_unmask", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("role IN ('province', 'city', 'county', 'township', 'auditor')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(["region_code"], ["regions.code"], name=op.f("fk_users_region_code_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('page', 'api')", name=op.f("ck_auth_sessions_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_auth_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_sessions_token_hash")),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(op.f("ix_login_attempts_username_at"), "login_attempts", ["username", "at"])
    op.create_index(op.f("ix_login_attempts_address_at"), "login_attempts", ["address", "at"])
    op.create_table(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_log_entry_hash")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"])
    _append_only_triggers()
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_id": 0, "last_hash": GENESIS_HASH}])
    op.create_table(
        "dashboard_figures",
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "measure", "key", name=op.f("pk_dashboard_figures")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # A plain ALTER (the constraint inline): batch mode would rebuild persons, which others refer to.
        op.execute("ALTER TABLE persons ADD COLUMN township_code VARCHAR(12) REFERENCES regions (code)")
    else:
        op.add_column("persons", sa.Column("township_code", sa.String(length=12), nullable=True))
        op.create_foreign_key(
            op.f("fk_persons_township_code_regions"), "persons", "regions", ["township_code"], ["code"]
        )
    op.create_index(op.f("ix_persons_township_code"), "persons", ["township_code"])
    with op.batch_alter_table("employment_spells") as batch:
        batch.alter_column("organized_export", existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE employment_spells SET organized_export = false WHERE organized_export IS NULL")
    with op.batch_alter_table("employment_spells") as batch:
        batch.alter_column("organized_export", existing_type=sa.Boolean(), nullable=False)
    op.drop_index(op.f("ix_persons_township_code"), table_name="persons")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE persons DROP COLUMN township_code")
    else:
        op.drop_constraint(op.f("fk_persons_township_code_regions"), "persons", type_="foreignkey")
        op.drop_column("persons", "township_code")
    op.drop_table("dashboard_figures")
    op.drop_table("audit_head")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table("audit_log")
    op.drop_table("login_attempts")
    op.drop_table("auth_sessions")
    op.drop_table("users")
