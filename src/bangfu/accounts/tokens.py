"""Random secrets handed to a client (session, API token, device cookie), of which only a hash is kept."""

from __future__ import annotations

import hashlib
import secrets

# token_urlsafe(32) gives 43 characters; anything far longer is not ours and is not worth hashing.
TOKEN_LIMIT = 256


def new_secret() -> str:
    """256 random bits, URL-safe: unguessable, so a plain (unsalted, fast) hash of it is enough to store."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible(token: str | None) -> bool:
    """Whether ``token`` may be one of ours: present, and not so long that hashing it is a waste."""
    return bool(token) and len(token or "") <= TOKEN_LIMIT
