"""A cheap fingerprint of what the database adds to the policy files: the newest standard and activation."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, Table, func, select

from bangfu.store.tables import LocalStandard, PolicyActivation

STANDARDS = cast(Table, LocalStandard.__table__)
ACTIVATIONS = cast(Table, PolicyActivation.__table__)


def version(connection: Connection) -> tuple[int, int]:
    """(newest standard id, newest activation id): rows are only ever appended, so any change moves one."""
    newest = select(
        select(func.max(STANDARDS.c.id)).scalar_subquery(), select(func.max(ACTIVATIONS.c.id)).scalar_subquery()
    )
    standard, activation = connection.execute(newest).one()
    return int(standard or 0), int(activation or 0)
