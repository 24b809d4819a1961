"""People are found by a fragment of their name or its pinyin initials, and listed in pinyin order (ADR 0025).

- ``persons.name_sort``: the name in pinyin (``li3hua2``), kept with the name; the new index
  ``ix_persons_people_list`` (county, pinyin, name, id, township, birth date) serves a county's list in
  pinyin order a page at a time, and its other sorts from the index alone.
- ``person_name_terms``: each character of a name and each prefix of its pinyin initials, with the
  person's hukou county, keyed by (term, county, person).
- Both are back-filled for the persons already registered (``store.name_index``: keys computed once per
  distinct name, joined back in SQL).

Revision ID: 0010
Revises: 0008 (to be re-pointed to 0009 when that migration is merged)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bangfu.store.name_index import rebuild_name_index

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("persons", sa.Column("name_sort", sa.String(255), server_default="", nullable=False))
    op.create_table(
        "person_name_terms",
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("hukou_region", sa.String(12), nullable=False),
        # No foreign key: a derived index of five rows a person, written with every person; a per-row
        # key check doubled a national import's time on PostgreSQL (ADR 0025). Nothing deletes persons.
        sa.Column("person_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("term", "hukou_region", "person_id", name="pk_person_name_terms"),
    )
    rebuild_name_index(op.get_bind())
    # Indexes after the back-fill: one sorted build each rather than millions of insertions.
    op.create_index("ix_person_name_terms_person_id", "person_name_terms", ["person_id"])
    op.create_index(
        "ix_persons_people_list",
        "persons",
        ["hukou_region", "name_sort", "name", "id", "township_code", "birth_date"],
    )


def downgrade() -> None:
    op.drop_index("ix_persons_people_list", table_name="persons")
    op.drop_table("person_name_terms")
    # In place on both back ends (SQLite since 3.35): a batch copy would lose other migrations' triggers.
    op.execute("ALTER TABLE persons DROP COLUMN name_sort")
