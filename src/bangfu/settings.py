"""Deployment settings, read from the environment once at start-up.

- ``BANGFU_DATA_DIR`` (default ``var`` under the current directory): files Bangfu writes — the
  SQLite database, imports, exports.
- ``BANGFU_DATABASE_URL`` (default: the SQLite file ``bangfu.db`` in the data folder): a SQLAlchemy
  URL such as ``postgresql+psycopg://bangfu@db.example/bangfu``.
- ``BANGFU_ENV`` (default ``development``): ``production`` makes ``bangfu serve`` refuse to start while
  demo accounts (with their published password) exist, and ``bangfu demo`` refuse to run at all.
- ``BANGFU_REQUIRE_TOTP_FOR_UNMASK`` (default off): ``1`` refuses unmasking to accounts that have not
  enrolled in the second factor (TOTP) yet.
- ``BANGFU_IMPORT_MAX_*``: what one import file may hold (``ImportLimits``; docs/import-headers.md, 限额).
- ``BANGFU_MAX_BODY_BYTES`` / ``BANGFU_MAX_JSON_BODY_BYTES``: the largest request body (``BodyLimits``).
- ``BANGFU_MAX_UPLOAD_BYTES`` (default 200 MB): the largest file uploaded to the suspect-data checks
  page (``POST /checks``) or as a bank's return file (``POST /payments/returns``,
  ``POST /api/v1/payment-batches/returns``), the only routes that take a file.
- ``BANGFU_PUBLIC_HTTPS`` (default off): ``1`` when users reach the platform over HTTPS — served with
  ``bangfu serve --tls-cert/--tls-key`` (which sets it) or behind a proxy that terminates TLS. Cookies
  are then marked Secure and answers carry HSTS.
- ``BANGFU_POLICY_DIR`` (default: none): a folder whose sub-folders are programme packages added as
  files (``policy.yaml``, ``parameters/``, ``benefits/``, ``tests/``). They are inactive until a
  province administrator activates them on the page 政策启用 (ADR 0023).
- ``BANGFU_CLAIM_POSTING_DAYS`` (default 7): the 公示 period ``bangfu claims posting-rule COUNTY`` sets
  when no ``--days`` is given (ADR 0034); a county's own rule, once set, is kept in the database.
- ``BANGFU_TRUSTED_PROXIES`` (default: none): addresses or networks of the reverse proxies in front of
  the platform, comma-separated (``127.0.0.1,10.0.0.0/8``). Only a request from one of them has its
  X-Forwarded-For header believed; anyone else could write any address there.
- ``BANGFU_ACCOUNT_KEY`` or ``BANGFU_ACCOUNT_KEY_FILE`` (a file holding it): the 32-byte key (64 hex
  digits or base64) that encrypts payee bank account numbers at rest (ADR 0035). Required in
  production; elsewhere a published development key is used when neither is set.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

from bangfu.batch.spark_settings import SparkSettings
from bangfu.core.account_cipher import AccountCipher, AccountKeyError, cipher_for, key_from_env

DATABASE_URL_ENV = "BANGFU_DATABASE_URL"
DATA_DIR_ENV = "BANGFU_DATA_DIR"
DEFAULT_DATA_DIR = "var"
SQLITE_FILE_NAME = "bangfu.db"
ENVIRONMENT_ENV = "BANGFU_ENV"
PRODUCTION = "production"
REQUIRE_TOTP_ENV = "BANGFU_REQUIRE_TOTP_FOR_UNMASK"
TRUE_WORDS = ("1", "true", "yes", "on")
MIB = 1024 * 1024
PUBLIC_HTTPS_ENV = "BANGFU_PUBLIC_HTTPS"
FALSE_WORDS = ("", "0", "false", "no", "off")
TRUSTED_PROXIES_ENV = "BANGFU_TRUSTED_PROXIES"
POLICY_DIR_ENV = "BANGFU_POLICY_DIR"
CLAIM_POSTING_DAYS_ENV = "BANGFU_CLAIM_POSTING_DAYS"
DEFAULT_CLAIM_POSTING_DAYS = 7

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
    production: bool = False
    require_totp_for_unmask: bool = False
    public_https: bool = False
    trusted_proxies: tuple[Network, ...] = ()
    spark: SparkSettings = field(default_factory=SparkSettings)
    # Programme packages added as files, each activated on a page before it counts (ADR 0023).
    policy_dir: Path | None = None
    # The 公示 period a county's rule gets when none is named (ADR 0034).
    claim_posting_days: int = DEFAULT_CLAIM_POSTING_DAYS
    # The key that encrypts payee account numbers (ADR 0035); None: not configured.
    account_key: bytes | None = field(default=None, repr=False)

    def account_cipher(self) -> AccountCipher:
        """The cipher of payee accounts; in production a missing key is refused, never replaced."""
        return cipher_for(self.account_key, production=self.production)

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
            public_https=_switch(env, PUBLIC_HTTPS_ENV, "HTTPS 访问时设为 1，否则设为 0 或不设"),
            trusted_proxies=parse_networks(env.get(TRUSTED_PROXIES_ENV, "")),
            spark=SparkSettings.from_env(env, data_dir),
            policy_dir=Path(env[POLICY_DIR_ENV]).resolve() if (env.get(POLICY_DIR_ENV) or "").strip() else None,
            claim_posting_days=_positive_int(env, CLAIM_POSTING_DAYS_ENV, DEFAULT_CLAIM_POSTING_DAYS),
            account_key=_account_key(env),
        )


def _account_key(env: Mapping[str, str]) -> bytes | None:
    try:
        return key_from_env(env)
    except AccountKeyError as exc:
        raise SettingsError(str(exc)) from None


def _switch(env: Mapping[str, str], name: str, how: str) -> bool:
    # A misspelt value must not silently mean "off" for a security setting.
    flag = (env.get(name) or "").strip().lower()
    if flag not in TRUE_WORDS + FALSE_WORDS:
        raise SettingsError(f"环境变量 {name}={flag!r} 无效：{how}")
    return flag in TRUE_WORDS


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or ""
    if not raw.strip():
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise SettingsError(f"环境变量 {name}={raw!r} 无效：应为正整数（默认 {default}）")
    return value


class _Limits:
    """Positive integers, each read from its environment variable (``ENV``), else the field's default."""

    ENV: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(**{field: _positive_int(env, name, getattr(defaults, field)) for field, name in cls.ENV.items()})


@dataclass(frozen=True)
class ImportLimits(_Limits):
    """What one import file may hold, so that no file can exhaust memory or time (read at each import,
    not once per process: the reading worker inherits the same environment).

    Each default lets the largest real file through: a province roster of a few million rows, the
    1 GB benchmark file (12.6 million rows, docs/benchmarks.md), Excel's own sheet (1,048,576 rows,
    32,767 characters a cell).
    """

    max_rows: int = 20_000_000
    max_columns: int = 500
    max_cell_chars: int = 32_767
    max_line_bytes: int = 1 * MIB
    max_xlsx_bytes: int = 2048 * MIB
    max_xlsx_member_bytes: int = 1024 * MIB
    max_xlsx_ratio: int = 200

    ENV: ClassVar[dict[str, str]] = {
        "max_rows": "BANGFU_IMPORT_MAX_ROWS",
        "max_columns": "BANGFU_IMPORT_MAX_COLUMNS",
        "max_cell_chars": "BANGFU_IMPORT_MAX_CELL_CHARS",
        "max_line_bytes": "BANGFU_IMPORT_MAX_LINE_BYTES",
        "max_xlsx_bytes": "BANGFU_IMPORT_MAX_XLSX_BYTES",
        "max_xlsx_member_bytes": "BANGFU_IMPORT_MAX_XLSX_MEMBER_BYTES",
        "max_xlsx_ratio": "BANGFU_IMPORT_MAX_XLSX_RATIO",
    }


@dataclass(frozen=True)
class BodyLimits(_Limits):
    """The largest request body: JSON cases and forms are small; only the checks page uploads a file.

    200 MB holds a county's download many times over (100,000 rows are some 40 MB of CSV); a
    province's file is checked with ``bangfu check`` on the server, not uploaded through a browser.
    """

    max_body_bytes: int = 1 * MIB
    max_json_body_bytes: int = 256 * 1024
    max_upload_bytes: int = 200 * MIB

    ENV: ClassVar[dict[str, str]] = {
        "max_body_bytes": "BANGFU_MAX_BODY_BYTES",
        "max_json_body_bytes": "BANGFU_MAX_JSON_BODY_BYTES",
        "max_upload_bytes": "BANGFU_MAX_UPLOAD_BYTES",
    }
