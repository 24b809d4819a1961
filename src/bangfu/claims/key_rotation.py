"""Re-encrypt every payee account under a new key (``bangfu keys rotate-accounts``; ADR 0035).

One transaction: each sealed value of ``claims`` and ``payments`` is opened with the old key and sealed
again (a fresh nonce) with the new one, its keyed hash recomputed. An approved batch whose lines still
match its content hash under the old hashes gets the hash under the new ones; a batch that no longer
matched stays refused at export, as before. Any value the old key cannot open stops the whole rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Table, select, update

from bangfu.audit import log as audit
from bangfu.claims.payments import BATCHES, PAYMENTS, PaymentError, content_hash
from bangfu.claims.records import CLAIMS
from bangfu.core.account_cipher import AccountCipher, AccountKeyError


@dataclass
class Rotated:
    claims: int = 0
    payments: int = 0
    batches_rehashed: int = 0


def _reseal(connection: Connection, table: Table, old: AccountCipher, new: AccountCipher) -> dict[int, str]:
    """Re-seal ``table``'s accounts; returns each row's new keyed hash."""
    hashes: dict[int, str] = {}
    rows = connection.execute(
        select(table.c.id, table.c.payee_account_cipher).where(table.c.payee_account_cipher.is_not(None))
    ).all()
    for row_id, token in rows:
        try:
            account = old.open(token)
        except AccountKeyError as exc:
            raise PaymentError(
                f"{table.name} 第 {row_id} 行的收款账号无法用旧密钥解密，未轮换任何数据：{exc}"
            ) from None
        sealed = new.seal(account)
        connection.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(payee_account_cipher=sealed.cipher, payee_account_hmac=sealed.hmac)
        )
        hashes[row_id] = sealed.hmac
    return hashes


def rotate_accounts(connection: Connection, old: AccountCipher, new: AccountCipher, actor: str) -> Rotated:
    if old.key_id == new.key_id:
        raise PaymentError("新旧密钥相同（指纹一致），无需轮换")
    batches = connection.execute(select(BATCHES).where(BATCHES.c.content_hash.is_not(None))).all()
    before: dict[int, list[Any]] = {
        b.id: list(connection.execute(select(PAYMENTS).where(PAYMENTS.c.batch_id == b.id))) for b in batches
    }
    done = Rotated()
    done.claims = len(_reseal(connection, CLAIMS, old, new))
    hashes = _reseal(connection, PAYMENTS, old, new)
    done.payments = len(hashes)
    for batch in batches:
        lines = before[batch.id]
        if content_hash(batch, lines) != batch.content_hash:
            continue
        renewed = [SimpleNamespace(**{**line._mapping, "payee_account_hmac": hashes[line.id]}) for line in lines]
        connection.execute(
            update(BATCHES).where(BATCHES.c.id == batch.id).values(content_hash=content_hash(batch, renewed))
        )
        done.batches_rehashed += 1
    audit.record(
        connection,
        actor=actor,
        action="accounts.rotate_key",
        target_type="account_key",
        target_id=new.key_id,
        before={"key_id": old.key_id},
        after={"key_id": new.key_id, "claims": done.claims, "payments": done.payments},
    )
    return done
