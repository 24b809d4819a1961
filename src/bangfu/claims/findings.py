"""What one auto-check found about a claim, and what every check reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection

from bangfu.policy.policy_set import PolicySet


@dataclass(frozen=True)
class Finding:
    rule: str
    label: str
    passed: bool
    reason: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Context:
    connection: Connection
    policies: PolicySet
    claim: Any
    answer: dict[str, Any] | None  # the benefit's answer now, on the claim's day; None: no longer offered
