"""What the county import files carry that the registry had no place for, and the import's audit trail.

- ``households``: head_name, head_id_number, member_count, categories, phone (the household roster);
- ``organizations``: contact_name, phone;
- ``employment_spells``: job, monthly_income_fen;
- ``import_batches``: conflicts (rows refused for contradicting the registry), rejects_file;
- ``import_changes``: each field an import changed on an existing row, before and after.

Only additions, all nullable or defaulted, so rows written before keep their meaning. On SQLite the
columns are added with plain ``ALTER TABLE`` (their CHECK inline), as in 0002: batch mode would rebuild
tables that other tables' rows refer to, which fails while foreign keys are enforced.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (table, column, SQLite column definition, column for other back ends, CHECK name and text or None)
COLUMNS: tuple[tuple[str, str, str, sa.Column[object], tuple[str, str] | None], ...] = (
    (
        "households",
        "head_name",
        "VARCHAR(64)",
        sa.Column("head_name", sa.String(length=64), nullable=True),
        None,
    ),
    (
        "households",
        "head_id_number",
        "VARCHAR(18)",
        sa.Column("head_id_number", sa.String(length=18), nullable=True),
        None,
    ),
    (
        "households",
        "member_count",
        "INTEGER",
        sa.Column("member_count", sa.Integer(), nullable=True),
        ("member_count_positive", "member_count IS NULL OR member_count > 0"),
    ),
    (
        "households",
        "categories",
        "VARCHAR(200)",
        sa.Column("categories", sa.String(length=200), nullable=True),
        None,
    ),
    ("households", "phone", "VARCHAR(20)", sa.Column("phone", sa.String(length=20), nullable=True), None),
    (
        "organizations",
        "contact_name",
        "VARCHAR(64)",
        sa.Column("contact_name", sa.String(length=64), nullable=True),
        None,
    ),
    ("organizations", "phone", "VARCHAR(20)", sa.Column("phone", sa.String(length=20), nullable=True), None),
    ("employment_spells", "job", "VARCHAR(100)", sa.Column("job", sa.String(length=100), nullable=True), None),
    (
        "employment_spells",
        "monthly_income_fen",
        "BIGINT",
        sa.Column("monthly_income_fen", sa.BigInteger(), nullable=True),
        ("monthly_income_not_negative", "monthly_income_fen IS NULL OR monthly_income_fen >= 0"),
    ),
    (
        "import_batches",
        "conflicts",
        "INTEGER DEFAULT '0' NOT NULL",
        sa.Column("conflicts", sa.Integer(), server_default="0", nullable=False),
        None,
    ),
    (
        "import_batches",
        "rejects_file",
        "VARCHAR(1024)",
        sa.Column("rejects_file", sa.String(length=1024), nullable=True),
        None,
    ),
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, sqlite_type, definition, check in COLUMNS:
        if sqlite:
            inline = f" CONSTRAINT ck_{table}_{check[0]} CHECK ({check[1]})" if check else ""
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sqlite_type}{inline}")
        else:
            op.add_column(table, definition)
            if check:
                op.create_check_constraint(op.f(f"ck_{table}_{check[0]}"), table, check[1])

    op.create_table(
        "import_changes",
        sa.Column("id", ID, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batches.id"], name=op.f("fk_import_changes_batch_id_import_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_changes")),
    )
    op.create_index(op.f("ix_import_changes_batch_id"), "import_changes", ["batch_id"])


def downgrade() -> None:
    op.drop_table("import_changes")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, _sqlite_type, _definition, check in reversed(COLUMNS):
        if sqlite and table == "employment_spells":
            # 0004 rebuilds this table on SQLite, which turns the inline CHECK into a table constraint
            # that DROP COLUMN refuses; no table refers to it, so batch mode may rebuild it again.
            with op.batch_alter_table(table) as batch:
                if check:
                    batch.drop_constraint(op.f(f"ck_{table}_{check[0]}"), type_="check")
                batch.drop_column(column)
        elif sqlite:
            # SQLite (3.35+) drops a column whose only constraint is its own inline CHECK.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            if check:
                op.drop_constraint(op.f(f"ck_{table}_{check[0]}"), table, type_="check")
            op.drop_column(table, column)
