"""Deployment settings, read from the environment once at start-up.

- ``BANGFU_DATA_DIR`` (default ``var`` under the current directory): files Bangfu writes — the
  SQLite database, imports, exports.
- ``BANGFU_DATABASE_URL`` (default: the SQLite file ``bangfu.db`` in the data folder): a SQLAlchemy
  URL such as ``postgresql+psycopg://bangfu@db.example/bangfu``.
- ``BANGFU_TRUSTED_PROXIES`` (default: none): addresses or networks of the reverse proxies in front of
  the platform, comma-separated (``127.0.0.1,10.0.0.0/8``). Only a request from one of them has its
  X-Forwarded-For header believed; anyone else could write any address there.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATABASE_URL_ENV = "BANGFU_DATABASE_URL"
DATA_DIR_ENV = "BANGFU_DATA_DIR"
DEFAULT_DATA_DIR = "var"
SQLITE_FILE_NAME = "bangfu.db"
TRUSTED_PROXIES_ENV = "BANGFU_TRUSTED_PROXIES"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """An environment variable holds a value Bangfu cannot use; the message says which and how to fix it."""


def parse_networks(text: str, source: str = TRUSTED_PROXIES_ENV) -> tuple[Network, ...]:
    """Comma-separated addresses or networks (``127.0.0.1, 10.0.0.0/8, ::1``); empty: none."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"{source} 中的“{item}”不是 IP 地址或网段：应写成用逗号分隔的地址或网段，如 127.0.0.1,10.0.0.0/8"
            ) from None
    return tuple(networks)


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        # An empty variable counts as unset: `BANGFU_DATABASE_URL= bangfu init` should not mean "no database".
        data_dir = Path(env.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).resolve()
        # Absolute, so that the URL names the same file whichever directory a later command runs in.
        database_url = env.get(DATABASE_URL_ENV) or f"sqlite:///{(data_dir / SQLITE_FILE_NAME).as_posix()}"
        trusted_proxies = parse_networks(env.get(TRUSTED_PROXIES_ENV, ""))
        return cls(database_url=database_url, data_dir=data_dir, trusted_proxies=trusted_proxies)
