"""Facts the policy engine reads that the registry lacked: where a person lives
(``persons.residence_region``, the policy's 所在县) and an organization's on-the-job trainees
(``organization_trainees``, for 以工代训).

Written by hand after autogenerate, then reviewed. On SQLite the column is added with a plain
``ALTER TABLE ... ADD COLUMN`` carrying its named CHECK inline: Alembic's batch mode would rebuild
``persons`` (copy, drop, rename), and dropping a table that other tables' rows refer to fails while
foreign keys are enforced, which they are on every connection (and cannot be switched off inside the
migration's transaction).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
RESIDENCE_CHECK = "residence_region IS NULL OR length(residence_region) >= 6"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE persons ADD COLUMN residence_region VARCHAR(12) "
            f"CONSTRAINT ck_persons_residence_region_length CHECK ({RESIDENCE_CHECK})"
        )
    else:
        op.add_column("persons", sa.Column("residence_region", sa.String(length=12), nullable=True))
        op.create_check_constraint(op.f("ck_persons_residence_region_length"), "persons", RESIDENCE_CHECK)

    op.create_table(
        "organization_trainees",
        sa.Column("id", ID, nullable=False),
        sa.Column("org_id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("previously_subsidized", sa.Boolean(), nullable=True),
        sa.CheckConstraint("months > 0", name=op.f("ck_organization_trainees_months_positive")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_organization_trainees_org_id_organizations")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_organization_trainees_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_trainees")),
    )
    op.create_index(op.f("ix_organization_trainees_org_id"), "organization_trainees", ["org_id"])
    op.create_index(op.f("ix_organization_trainees_person_id"), "organization_trainees", ["person_id"])


def downgrade() -> None:
    op.drop_table("organization_trainees")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a column whose only constraint is its own inline CHECK.
        op.execute("ALTER TABLE persons DROP COLUMN residence_region")
    else:
        op.drop_constraint(op.f("ck_persons_residence_region_length"), "persons", type_="check")
        op.drop_column("persons", "residence_region")
