"""Fewer index writes per imported person: a national download's million rows insert about eight
million index entries (ADR 0030).

- ``ix_persons_hukou_region_name`` goes: every read it served ("this county's persons", a name's
  fragments in a county) now uses ``ix_persons_people_list`` (county first) or the name index.
- On SQLite ``person_name_terms`` becomes a ``WITHOUT ROWID`` table: its primary key is the table, so
  each of a person's five terms is one B-tree insertion instead of two (the rowid table and the key's
  index). PostgreSQL has no such distinction (its heap and key index stay as they are).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _rebuild_terms(*, with_rowid: bool) -> None:
    """Copy ``person_name_terms`` into a table of the other SQLite kind, in key order (a sorted build)."""
    op.create_table(
        "person_name_terms_rebuilt",
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("hukou_region", sa.String(12), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("term", "hukou_region", "person_id", name="pk_person_name_terms"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        "INSERT INTO person_name_terms_rebuilt (term, hukou_region, person_id) "
        "SELECT term, hukou_region, person_id FROM person_name_terms ORDER BY term, hukou_region, person_id"
    )
    op.drop_index("ix_person_name_terms_person_id", table_name="person_name_terms")
    op.drop_table("person_name_terms")
    op.rename_table("person_name_terms_rebuilt", "person_name_terms")
    op.create_index("ix_person_name_terms_person_id", "person_name_terms", ["person_id"])


def upgrade() -> None:
    op.drop_index("ix_persons_hukou_region_name", table_name="persons")
    if _sqlite():
        _rebuild_terms(with_rowid=False)


def downgrade() -> None:
    if _sqlite():
        _rebuild_terms(with_rowid=True)
    op.create_index("ix_persons_hukou_region_name", "persons", ["hukou_region", "name"])
