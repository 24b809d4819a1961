"""Deployment settings, read from the environment once at start-up.

- ``BANGFU_DATA_DIR`` (default ``var`` under the current directory): files Bangfu writes — the
  SQLite database, imports, exports.
- ``BANGFU_DATABASE_URL`` (default: the SQLite file ``bangfu.db`` in the data folder): a SQLAlchemy
  URL such as ``postgresql+psycopg://bangfu@db.example/bangfu``.
- ``BANGFU_ENV`` (default ``development``): ``production`` makes ``bangfu serve`` refuse to start while
  demo accounts (with their published password) exist, and ``bangfu demo`` refuse to run at all.
- ``BANGFU_REQUIRE_TOTP_FOR_UNMASK`` (default off): ``1`` refuses unmasking to accounts that have not
  enrolled in the second factor (TOTP) yet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATABASE_URL_ENV = "BANGFU_DATABASE_URL"
DATA_DIR_ENV = "BANGFU_DATA_DIR"
DEFAULT_DATA_DIR = "var"
SQLITE_FILE_NAME = "bangfu.db"
ENVIRONMENT_ENV = "BANGFU_ENV"
PRODUCTION = "production"
REQUIRE_TOTP_ENV = "BANGFU_REQUIRE_TOTP_FOR_UNMASK"
TRUE_WORDS = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    production: bool = False
    require_totp_for_unmask: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        # An empty variable counts as unset: `BANGFU_DATABASE_URL= bangfu init` should not mean "no database".
        data_dir = Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).resolve()
        # Absolute, so that the URL names the same file whichever directory a later command runs in.
        database_url = env.get(DATABASE_URL_ENV) or f"sqlite:///{(data_dir / SQLITE_FILE_NAME).as_posix()}"
        return cls(
            database_url=database_url,
            data_dir=data_dir,
            production=(env.get(ENVIRONMENT_ENV) or "").strip().lower() == PRODUCTION,
            require_totp_for_unmask=(env.get(REQUIRE_TOTP_ENV) or "").strip().lower() in TRUE_WORDS,
        )
