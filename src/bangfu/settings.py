"""Deployment settings, read from the environment once at start-up.

- ``BANGFU_DATA_DIR`` (default ``var`` under the current directory): files Bangfu writes — the
  SQLite database, imports, exports.
- ``BANGFU_DATABASE_URL`` (default: the SQLite file ``bangfu.db`` in the data folder): a SQLAlchemy
  URL such as ``postgresql+psycopg://bangfu@db.example/bangfu``.
- ``BANGFU_PUBLIC_HTTPS`` (default off): ``1`` when users reach the platform over HTTPS — served with
  ``bangfu serve --tls-cert/--tls-key`` (which sets it) or behind a proxy that terminates TLS. Cookies
  are then marked Secure and answers carry HSTS.
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
PUBLIC_HTTPS_ENV = "BANGFU_PUBLIC_HTTPS"
_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    public_https: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        # An empty variable counts as unset: `BANGFU_DATABASE_URL= bangfu init` should not mean "no database".
        data_dir = Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).resolve()
        # Absolute, so that the URL names the same file whichever directory a later command runs in.
        database_url = env.get(DATABASE_URL_ENV) or f"sqlite:///{(data_dir / SQLITE_FILE_NAME).as_posix()}"
        flag = env.get(PUBLIC_HTTPS_ENV, "").strip().lower()
        if flag not in _YES | _NO:
            raise ValueError(f"环境变量 {PUBLIC_HTTPS_ENV}={flag!r} 无效：HTTPS 访问时设为 1，否则设为 0 或不设")
        return cls(database_url=database_url, data_dir=data_dir, public_https=flag in _YES)
