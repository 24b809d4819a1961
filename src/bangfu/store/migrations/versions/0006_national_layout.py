"""The national monitoring system's person table: its labour vocabulary, person facts, yearly facts.

- ``persons.labor_capacity`` takes the national five values of 劳动技能: skilled (技能劳动力),
  ordinary (普通劳动力), weak (弱劳动力或半劳动力), lost (丧失劳动力), none (无劳动力). Registered
  values move: full (全劳力) → ordinary, half (半劳力) → weak; weak stays. SQLite cannot alter a
  CHECK, and rebuilding ``persons`` is impossible here (every registry table refers to it, and foreign
  keys cannot be switched off inside the migration's transaction), so the constraint's text is edited
  in the schema as SQLite documents for loosening a constraint (lang_altertable.html, section 7).
- ``persons`` gains the national person facts (人口编号, 与户主关系, 文化程度, 在校生状况, 健康状况,
  残疾类别, 是否享受低保, 是否特困供养人员), the day 风险是否已消除 was first seen 是, and
  ``original_record``: the row's columns Bangfu does not use, as JSON.
- ``person_year_facts``: months worked, place, employer, channel and welfare post per person and year.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_CHECK = "labor_capacity IN ('full', 'weak', 'half')"
NEW_CHECK = "labor_capacity IN ('skilled', 'ordinary', 'weak', 'lost', 'none')"
PERSON_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("person_number", sa.String(length=32)),
    ("relation_to_head", sa.String(length=16)),
    ("education", sa.String(length=32)),
    ("schooling", sa.String(length=32)),
    ("health", sa.String(length=32)),
    ("disability", sa.String(length=32)),
    ("minimum_living_allowance", sa.Boolean()),
    ("extreme_poverty_support", sa.Boolean()),
    ("risk_removed_on", sa.Date()),
    ("original_record", sa.Text()),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _relabel(old: str, new: str, moves: Sequence[str]) -> None:
    """Swap the labour-capacity CHECK from ``old`` to ``new``, moving the registered values by ``moves``."""
    if not _sqlite():
        # Dropped first: the rows hold old values until moved, which the new constraint refuses.
        op.drop_constraint(op.f("ck_persons_labor"), "persons", type_="check")
        for statement in moves:
            op.execute(statement)
        op.create_check_constraint(op.f("ck_persons_labor"), "persons", f"labor_capacity IS NULL OR {new}")
        return
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'persons'").scalar()
    if not isinstance(sql, str) or sql.count(old) != 1:
        raise RuntimeError(f"persons 表的劳动能力约束不是预期的形式，无法迁移：{sql}")
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar() or 0)
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'persons'", (sql.replace(old, new),)
    )
    # A new schema version makes every connection re-read the schema, this one included. Rows are
    # not re-checked until written, so the moves below run under the new constraint.
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    for statement in moves:
        op.execute(statement)


def upgrade() -> None:
    _relabel(
        OLD_CHECK,
        NEW_CHECK,
        (
            "UPDATE persons SET labor_capacity = 'ordinary' WHERE labor_capacity = 'full'",
            "UPDATE persons SET labor_capacity = 'weak' WHERE labor_capacity = 'half'",
        ),
    )
    for name, type_ in PERSON_COLUMNS:
        op.add_column("persons", sa.Column(name, type_, nullable=True))
    op.create_table(
        "person_year_facts",
        sa.Column("id", ID, nullable=False),
        sa.Column("person_id", ID, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("work_months", sa.Integer(), nullable=True),
        sa.Column("work_place", sa.String(length=100), nullable=True),
        sa.Column("employer_name", sa.String(length=200), nullable=True),
        sa.Column("employment_channel", sa.String(length=32), nullable=True),
        sa.Column("welfare_post_type", sa.String(length=64), nullable=True),
        sa.Column("welfare_post_months", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "work_months IS NULL OR (work_months >= 0 AND work_months <= 12)",
            name=op.f("ck_person_year_facts_work_months"),
        ),
        sa.CheckConstraint(
            "welfare_post_months IS NULL OR (welfare_post_months >= 0 AND welfare_post_months <= 12)",
            name=op.f("ck_person_year_facts_welfare_post_months"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_person_year_facts_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_year_facts")),
        sa.UniqueConstraint("person_id", "year", name=op.f("uq_person_year_facts_person_id_year")),
    )


def downgrade() -> None:
    op.drop_table("person_year_facts")
    for name, _type in reversed(PERSON_COLUMNS):
        if _sqlite():
            op.execute(f"ALTER TABLE persons DROP COLUMN {name}")
        else:
            op.drop_column("persons", name)
    # The old vocabulary has no word for 丧失劳动力 or 无劳动力, nor for a known skill: those become
    # unknown and 全劳力 respectively. Downgrading loses that distinction; upgrading again cannot restore it.
    _relabel(
        NEW_CHECK,
        OLD_CHECK,
        (
            "UPDATE persons SET labor_capacity = NULL WHERE labor_capacity IN ('lost', 'none')",
            "UPDATE persons SET labor_capacity = 'full' WHERE labor_capacity IN ('skilled', 'ordinary')",
        ),
    )
