"""How many households, persons and organizations the registry holds: whether it is empty."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from bangfu.store.tables import Household, Organization, Person

# The registry's keyed tables: a bulk load assigns their ids itself, because other rows refer to them.
KEYED = {"households": Household, "persons": Person, "organizations": Organization}


class RegistryNotEmptyError(RuntimeError):
    """The registry holds persons or organizations, and appending was not asked for."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__(counts)
        self.counts = counts


def registry_counts(connection: Connection) -> dict[str, int]:
    return {name: int(connection.scalar(select(func.count()).select_from(model)) or 0) for name, model in KEYED.items()}
