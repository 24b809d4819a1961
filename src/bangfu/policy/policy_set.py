"""The policy documents Bangfu answers with, loaded once per command or web app (``bangfu.context``).

Today the set holds one document, the bundled Shanxi 2021 policy (or the folder named by ``--policy``).
Callers already ask the set, not a single document, so that several documents in force at once
(province, city, county; issue 10) extend this type instead of changing every caller again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from bangfu.policy.loader import DEFAULT_POLICY, PolicyError, load_bundled, load_policy
from bangfu.policy.model import Benefit, Policy


@dataclass(frozen=True)
class PolicySet:
    """Policy documents by id, one of them the default (the one a caller gets without naming any)."""

    documents: tuple[Policy, ...]
    default_id: str

    def __post_init__(self) -> None:
        ids = [document.id for document in self.documents]
        if len(set(ids)) != len(ids):
            raise PolicyError(f"政策集中有重复的政策编号：{', '.join(sorted({i for i in ids if ids.count(i) > 1}))}")
        if self.default_id not in ids:
            raise PolicyError(f"政策集中没有默认政策 {self.default_id}；已有：{', '.join(ids) or '无'}")

    @classmethod
    def of(cls, *documents: Policy) -> PolicySet:
        """The given documents; the first is the default."""
        if not documents:
            raise PolicyError("政策集至少需要一个政策")
        return cls(tuple(documents), documents[0].id)

    @classmethod
    def bundled(cls, policy_id: str = DEFAULT_POLICY) -> PolicySet:
        """The policy shipped with Bangfu under ``policy_id`` (PolicyError naming the ones there are)."""
        return cls.of(load_bundled(policy_id))

    @classmethod
    def from_option(cls, policy: str) -> PolicySet:
        """A bundled policy's id, or the path of a policy folder (the CLI's ``--policy``)."""
        path = Path(policy)
        return cls.of(load_policy(path)) if path.is_dir() else cls.bundled(policy)

    @property
    def default(self) -> Policy:
        return self.document(self.default_id)

    def document(self, policy_id: str) -> Policy:
        for document in self.documents:
            if document.id == policy_id:
                return document
        raise PolicyError(f"没有编号为 {policy_id} 的政策；已有：{', '.join(d.id for d in self.documents)}")

    def in_force(self, day: dt.date, region: str | None = None) -> tuple[Policy, ...]:
        """The documents in force on ``day`` for ``region`` (a GB/T 2260 code; None: anywhere).

        Every document held today covers the whole province, so ``region`` does not narrow the answer
        yet; city and county documents will be matched on it.
        """
        return tuple(document for document in self.documents if document.in_force(day))

    def benefit(self, benefit_id: str) -> Benefit | None:
        """The benefit of that id in the first document that has one (ledger rows name a benefit only)."""
        for document in self.documents:
            if benefit_id in document.benefits:
                return document.benefits[benefit_id]
        return None
