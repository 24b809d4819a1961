"""Hardening: account life cycle, sign-in devices, an audit chain that cannot be cut short.

- ``users.must_change_password`` (a temporary password must be replaced at the first sign-in),
  ``users.password_changed_at``, ``users.totp_secret`` (the optional second factor, base32),
  ``users.is_demo`` (accounts ``bangfu demo`` made: ``serve`` warns while any exists);
- an auditor can never unmask: a CHECK on PostgreSQL; on SQLite, triggers (adding a CHECK there means
  rebuilding ``users``, which ``auth_sessions`` refers to, and SQLite cannot switch foreign keys off
  inside the migration's transaction);
- ``sign_in_devices``: browsers and clients that once signed in with the right password. A device
  cookie lets its owner past the per-account delay that strangers' failures cause;
- ``audit_log`` refuses TRUNCATE (PostgreSQL); ``audit_head`` refuses DELETE and TRUNCATE, and its
  ``last_id`` can only grow, so the tail can no longer be cut and the head moved back unnoticed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AUDITOR_REFUSAL = "审计账号不能查看完整个人信息（can_unmask 必须为否）"
LOG_REFUSAL = "audit_log 只可追加，不可修改、删除或清空"
HEAD_REFUSAL = "audit_head 只能前进：不可删除、清空或回退"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _audit_guards() -> None:
    if _postgresql():
        op.execute(
            "CREATE FUNCTION audit_log_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{LOG_REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate()"
        )
        op.execute(
            "CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' AND NEW.last_id >= OLD.last_id THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{HEAD_REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head "
            "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()"
        )
        return
    # SQLite has no TRUNCATE: DELETE without WHERE is a DELETE, which 0004's trigger already refuses.
    op.execute(
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSAL}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_head_no_rewind BEFORE UPDATE ON audit_head WHEN NEW.last_id < OLD.last_id "
        f"BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSAL}'); END"
    )


def _auditor_never_unmasks() -> None:
    if _postgresql():
        op.create_check_constraint(
            op.f("ck_users_auditor_never_unmasks"), "users", "role <> 'auditor' OR NOT can_unmask"
        )
        return
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER users_auditor_never_unmasks_{event.lower()} BEFORE {event} ON users "
            f"WHEN NEW.role = 'auditor' AND NEW.can_unmask BEGIN SELECT RAISE(ABORT, '{AUDITOR_REFUSAL}'); END"
        )


# --- Sign-in throttling (ADR 0009): the known device an attempt came from -------------------------
def _login_attempt_devices() -> None:
    # A failure from a known device counts against that device, not against the account: a stranger's
    # failures cannot then lock its owner out, and a stolen device cookie still has its own limit.
    # No ON DELETE action: SQLite reflects none from an inline REFERENCES, so the models could not say
    # it; forgetting a device sets its attempts' device_id to NULL first (accounts/devices.py).
    foreign_key = op.f("fk_login_attempts_device_id_sign_in_devices")
    if _postgresql():
        op.add_column("login_attempts", sa.Column("device_id", ID, nullable=True))
        op.create_foreign_key(foreign_key, "login_attempts", "sign_in_devices", ["device_id"], ["id"])
    else:
        # SQLite cannot ALTER a constraint in, but ADD COLUMN may carry one inline when the column may be
        # NULL; rebuilding the table instead would mean switching foreign keys off, impossible here.
        op.execute(
            f"ALTER TABLE login_attempts ADD COLUMN device_id INTEGER CONSTRAINT {foreign_key} "
            "REFERENCES sign_in_devices (id)"
        )
    op.create_index(op.f("ix_login_attempts_device_id_at"), "login_attempts", ["device_id", "at"])


def _drop_login_attempt_devices() -> None:
    op.drop_index(op.f("ix_login_attempts_device_id_at"), table_name="login_attempts")
    if _postgresql():
        op.drop_column("login_attempts", "device_id")  # its foreign key goes with it
    else:
        # SQLite refuses DROP COLUMN on a column with a foreign key: rebuild the table (nothing refers to it).
        with op.batch_alter_table("login_attempts", recreate="always") as batch:
            batch.drop_column("device_id")


# --- end of the sign-in throttling block ---------------------------------------------------------


def upgrade() -> None:
    # Auditors created before this revision with the right to unmask lose it: the rule has no exception.
    op.execute("UPDATE users SET can_unmask = false WHERE role = 'auditor'")
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("is_demo", sa.Boolean(), nullable=False, server_default=sa.false()))
    _auditor_never_unmasks()
    op.create_table(
        "sign_in_devices",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sign_in_devices_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_devices")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sign_in_devices_token_hash")),
    )
    op.create_index(op.f("ix_sign_in_devices_user_id"), "sign_in_devices", ["user_id"])
    _login_attempt_devices()
    _audit_guards()


def downgrade() -> None:
    if _postgresql():
        op.execute("DROP TRIGGER audit_head_no_truncate ON audit_head")
        op.execute("DROP TRIGGER audit_head_forward_only ON audit_head")
        op.execute("DROP FUNCTION audit_head_forward_only()")
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION audit_log_no_truncate()")
        op.drop_constraint(op.f("ck_users_auditor_never_unmasks"), "users", type_="check")
    else:
        op.execute("DROP TRIGGER audit_head_no_rewind")
        op.execute("DROP TRIGGER audit_head_no_delete")
        op.execute("DROP TRIGGER users_auditor_never_unmasks_insert")
        op.execute("DROP TRIGGER users_auditor_never_unmasks_update")
    _drop_login_attempt_devices()
    op.drop_index(op.f("ix_sign_in_devices_user_id"), table_name="sign_in_devices")
    op.drop_table("sign_in_devices")
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.drop_column("is_demo")
        batch.drop_column("totp_secret")
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
