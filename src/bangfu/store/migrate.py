"""Bring a database to the current schema (Alembic) and seed its reference rows.

This is the only way the schema is created outside tests: ``Base.metadata.create_all`` would build
tables Alembic does not know about, and the first real migration would then fail on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import URL, make_url

from bangfu.core.regions import DEMO_KEY_COUNTIES
from bangfu.store.seed import SeedResult, seed_regions

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class UpgradeResult:
    revision: str | None
    regions: SeedResult


def alembic_config(url: str | URL) -> Config:
    """An Alembic configuration without an ini file: the scripts ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Config values pass through configparser interpolation, so a literal % (as in an encoded password) is doubled.
    plain = make_url(url).render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", plain.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


class SchemaNotCurrentError(RuntimeError):
    """The database is not at this version's newest schema: ``bangfu init`` has not run (or is due)."""

    def __init__(self, revision: str | None) -> None:
        super().__init__(f"schema revision {revision}, expected {head_revision()}")
        self.revision = revision
        self.head = head_revision()


def require_head(connection: Connection) -> None:
    """Refuse to read or write a database whose tables may lack columns this version uses."""
    revision = current_revision(connection)
    if revision != head_revision():
        raise SchemaNotCurrentError(revision)


def upgrade(connection: Connection, key_counties: Iterable[str] | None = None) -> UpgradeResult:
    """Migrate to the newest revision, then seed regions; in the caller's transaction, safe to run again.

    ``key_counties`` marks counties as key assistance counties when their rows are first inserted
    (default: the demo list, the same as the bundled policy's); later edits of the flag are kept.
    """
    codes = frozenset(DEMO_KEY_COUNTIES if key_counties is None else key_counties)
    config = alembic_config(connection.engine.url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    seeded = seed_regions(connection, codes)
    return UpgradeResult(revision=current_revision(connection), regions=seeded)
