"""Bank account numbers encrypted at rest (ADR 0035).

One secret of 32 bytes (``BANGFU_ACCOUNT_KEY`` or ``BANGFU_ACCOUNT_KEY_FILE``, read in settings.py)
gives two keys by HKDF-SHA256: one for AES-256-GCM, one for HMAC-SHA256.

- ``seal`` encrypts an account number with a fresh 96-bit random nonce per value, the purpose bound
  as associated data. The stored token is ``v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``; the key
  id (the first 8 hex digits of a hash of the HMAC key) lets a wrong key be named as such before any
  decryption is tried.
- ``lookup`` is the keyed hash (HMAC) of the normalised number: equal accounts have equal hashes, so
  "one account shared by unrelated claimants" and look-ups are an equality on an indexed column,
  while the hash tells nothing to whoever reads the database without the key.
- ``tail`` is the last four digits, what every screen shows (``masked``), kept in the clear.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
ASSOCIATED_DATA = b"bangfu:payee_account:v1"
# Used only outside production when no key is configured, so that a developer's database and the
# tests work without setup. It is published here, so it protects nothing: production refuses it.
DEVELOPMENT_KEY = hashlib.sha256(b"bangfu development account key - published, not secret").digest()


KEY_ENV = "BANGFU_ACCOUNT_KEY"
KEY_FILE_ENV = "BANGFU_ACCOUNT_KEY_FILE"


class AccountKeyError(ValueError):
    """The account key is missing, malformed or not the one the data was encrypted with (message in Chinese)."""


@dataclass(frozen=True)
class Sealed:
    """What is stored for one account number."""

    cipher: str
    hmac: str
    tail: str


def normalised(account: str) -> str:
    return account.replace(" ", "").strip()


def masked(tail: str | None) -> str:
    """An account as every screen shows it: the last four digits only."""
    return f"****{tail}" if tail else ""


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(key)


def parse_key(text: str, source: str) -> bytes:
    """A 32-byte key written as 64 hex digits or as base64 (``openssl rand -base64 32``)."""
    value = text.strip()
    key: bytes | None = None
    if len(value) == 2 * KEY_BYTES:
        try:
            key = bytes.fromhex(value)
        except ValueError:
            key = None
    if key is None:
        try:
            key = base64.b64decode(value, validate=True)
        except ValueError:
            key = None
    if key is None or len(key) != KEY_BYTES:
        raise AccountKeyError(
            f"{source} 不是有效的账号密钥：应为 32 字节的随机数，写成 64 位十六进制或 base64"
            "（可用 openssl rand -base64 32 生成）"
        )
    return key


class AccountCipher:
    """Encrypts, decrypts and hashes payee account numbers under one key."""

    def __init__(self, key: bytes, *, development: bool = False) -> None:
        if len(key) != KEY_BYTES:
            raise AccountKeyError("账号密钥应为 32 字节")
        self._aead = AESGCM(_derive(key, b"bangfu payee account encryption"))
        self._mac_key = _derive(key, b"bangfu payee account lookup")
        self.key_id = hashlib.sha256(self._mac_key).hexdigest()[:8]
        self.development = development

    def lookup(self, account: str) -> str:
        return hmac.new(self._mac_key, normalised(account).encode("utf-8"), hashlib.sha256).hexdigest()

    def seal(self, account: str) -> Sealed:
        number = normalised(account)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, number.encode("utf-8"), ASSOCIATED_DATA)
        token = f"{VERSION}:{self.key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"
        return Sealed(cipher=token, hmac=self.lookup(number), tail=number[-4:])

    def open(self, token: str) -> str:
        try:
            version, key_id, body = token.split(":", 2)
        except ValueError:
            raise AccountKeyError("数据库中的收款账号不是加密格式，请先运行数据库迁移（bangfu migrate）") from None
        if version != VERSION:
            raise AccountKeyError(f"收款账号的加密版本 {version} 无法识别")
        if key_id != self.key_id:
            raise AccountKeyError(
                f"收款账号是用另一把密钥（指纹 {key_id}）加密的，当前配置的密钥指纹为 {self.key_id}："
                "请检查 BANGFU_ACCOUNT_KEY 或 BANGFU_ACCOUNT_KEY_FILE 是否为加密时所用的密钥"
            )
        raw = base64.b64decode(body)
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA)
        except InvalidTag:
            raise AccountKeyError("收款账号解密失败：数据被改动，或密钥不是加密时所用的密钥") from None
        return plain.decode("utf-8")


def key_from_env(env: Mapping[str, str]) -> bytes | None:
    """The key ``BANGFU_ACCOUNT_KEY`` holds, else the one in the file ``BANGFU_ACCOUNT_KEY_FILE`` names;
    None when neither is set. Read by settings.py (and by migration 0014, which runs without settings)."""
    if (env.get(KEY_ENV) or "").strip():
        return parse_key(env[KEY_ENV], f"环境变量 {KEY_ENV}")
    path = (env.get(KEY_FILE_ENV) or "").strip()
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountKeyError(f"环境变量 {KEY_FILE_ENV} 指向的密钥文件 {path} 无法读取：{exc}") from None
    return parse_key(text, f"密钥文件 {path}")


def cipher_for(key: bytes | None, *, production: bool) -> AccountCipher:
    """The cipher of payee accounts; in production a missing key is refused, never replaced."""
    if key is not None:
        return AccountCipher(key)
    if production:
        raise AccountKeyError(
            f"生产环境未配置账号密钥：请设置 {KEY_ENV}（32 字节，64 位十六进制或 base64）"
            f"或 {KEY_FILE_ENV}（保存密钥的文件路径）；没有密钥不能读写收款账号"
        )
    return AccountCipher(DEVELOPMENT_KEY, development=True)
