"""Signed checkpoints of the audit chain, kept outside the database, that catch a chain cut short.

The hash chain shows a changed or missing entry *inside* the chain, but someone who owns the tables
can truncate the log, or delete its tail, and move ``audit_head`` back: what is left verifies. A
checkpoint (entry count, last id, that entry's hash, time) printed for a sealed register or mailed to
the auditor remembers how long the chain was. ``check_against`` then finds a chain now shorter than
the checkpoint, or a different entry at the checkpoint's id (a rewritten history).

Signed with HMAC-SHA256 under a key file the auditor keeps (ADR 0011): the standard library only,
and the server never holds the key. The signature covers the canonical JSON of every other field,
so an edited checkpoint (a smaller count, say) fails before anything is compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from bangfu.audit.log import HEAD, HEAD_ID, LOG, canonical_json

FORMAT = "bangfu-audit-checkpoint/1"
KEY_BYTES = 32
_FIELDS = ("format", "entries", "last_id", "head_hash", "at", "key_id")


class CheckpointError(ValueError):
    """A key or checkpoint file that cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True)
class Checkpoint:
    entries: int
    last_id: int
    head_hash: str
    at: str
    key_id: str
    signature: str

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **self.__dict__}


def new_key() -> str:
    """A fresh key, as the hex text a key file holds."""
    return secrets.token_hex(KEY_BYTES)


def write_key(path: Path) -> None:
    """A new key file readable by its owner only; refuses to replace one (its checkpoints would be lost)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CheckpointError(f"密钥文件 {path} 已存在：为免旧检查点无法核对，不会覆盖；请换一个文件名") from None
    except OSError as exc:
        raise CheckpointError(f"无法创建密钥文件 {path}（{exc.strerror}）") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write(new_key() + "\n")


def read_key(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "不是文本"
        raise CheckpointError(f"无法读取密钥文件 {path}（{reason}）：请用 bangfu audit keygen 生成") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise CheckpointError(f"密钥文件 {path} 的内容不是十六进制密钥：请用 bangfu audit keygen 生成") from None
    if len(key) < KEY_BYTES:
        raise CheckpointError(f"密钥文件 {path} 的密钥只有 {len(key)} 字节，至少需要 {KEY_BYTES} 字节")
    return key


def _key_id(key: bytes) -> str:
    # Names the key without revealing it, so that "wrong key" and "edited file" read differently.
    return hashlib.sha256(b"bangfu-audit-key-id" + key).hexdigest()[:16]


def _signature(key: bytes, fields: dict[str, Any]) -> str:
    content = canonical_json({name: fields[name] for name in _FIELDS})
    return hmac.new(key, content.encode("utf-8"), hashlib.sha256).hexdigest()


def take(connection: Connection, key: bytes, now: dt.datetime | None = None) -> Checkpoint:
    """The current head, signed; the caller verifies the chain first (a broken chain is not certified)."""
    head = connection.execute(select(HEAD.c.last_id, HEAD.c.last_hash).where(HEAD.c.id == HEAD_ID)).one()
    entries = int(connection.scalar(select(func.count()).select_from(LOG).where(LOG.c.id <= head.last_id)) or 0)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
    fields = {
        "format": FORMAT,
        "entries": entries,
        "last_id": int(head.last_id),
        "head_hash": head.last_hash,
        "at": moment,
        "key_id": _key_id(key),
    }
    return Checkpoint(entries, int(head.last_id), head.last_hash, moment, fields["key_id"], _signature(key, fields))


def parse(data: Any, key: bytes, source: str) -> Checkpoint:
    """A checkpoint read from JSON, its signature checked with ``key``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{source} 不是帮扶审计检查点（应为 bangfu audit checkpoint 输出的 JSON）")
    try:
        fields = {name: data[name] for name in _FIELDS}
        signature = str(data["signature"])
        checkpoint = Checkpoint(
            int(fields["entries"]),
            int(fields["last_id"]),
            str(fields["head_hash"]),
            str(fields["at"]),
            str(fields["key_id"]),
            signature,
        )
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(f"{source} 缺少字段或字段格式不对：检查点文件被改动或不完整") from None
    if fields["key_id"] != _key_id(key):
        raise CheckpointError(f"{source} 不是用这个密钥签的（密钥编号 {fields['key_id']}）：请用签发时的密钥文件核对")
    if not hmac.compare_digest(signature, _signature(key, fields)):
        raise CheckpointError(f"{source} 的签名不符：检查点内容被改动过，不能作为核对依据")
    return checkpoint


def check_against(connection: Connection, checkpoint: Checkpoint) -> list[str]:
    """What the chain has lost since ``checkpoint`` was taken: [] when it still holds everything."""
    head_last = int(connection.scalar(select(HEAD.c.last_id).where(HEAD.c.id == HEAD_ID)) or 0)
    entries = int(connection.scalar(select(func.count()).select_from(LOG)) or 0)
    problems = []
    if head_last < checkpoint.last_id or entries < checkpoint.entries:
        problems.append(
            f"审计链比检查点短：检查点（{checkpoint.at}）时共 {checkpoint.entries:,} 条、最后一条为第 "
            f"{checkpoint.last_id} 条；现在共 {entries:,} 条、链头记录的最后一条为第 {head_last} 条"
            "（记录被截断或删除，链头被移回）"
        )
    if checkpoint.last_id:
        stored = connection.scalar(select(LOG.c.entry_hash).where(LOG.c.id == checkpoint.last_id))
        if stored is None:
            problems.append(f"检查点的最后一条（第 {checkpoint.last_id} 条）已不在日志中")
        elif stored != checkpoint.head_hash:
            problems.append(
                f"第 {checkpoint.last_id} 条记录的哈希与检查点不符（检查点 {checkpoint.head_hash[:16]}…，"
                f"现在 {stored[:16]}…）：此前的历史被改写"
            )
    return problems
