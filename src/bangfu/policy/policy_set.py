"""The policy documents Bangfu answers with, loaded once per command or web app (``bangfu.context``).

Several documents can be in force at once: the province's, a city's, a county's programme, each with
its own validity and region. A case is answered by every document that covers its place
(``documents_for``), each deciding what happened in its own period (``Policy.decision_day``), and
benefits of different documents that may not be combined are declared as cross-document exclusions
(``Policy.cross_exclusions``), checked here when the set is built.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bangfu.policy.loader import DEFAULT_POLICY, PolicyError, available_policies, load_bundled, load_policy
from bangfu.policy.model import LEVEL_CODE_LENGTHS, LEVELS, Benefit, CrossExclusion, Policy


@dataclass(frozen=True)
class PolicySet:
    """Policy documents by id, one of them the default (the one a caller gets without naming any)."""

    documents: tuple[Policy, ...]
    default_id: str
    # Ids of documents left out of a narrowed set (``only``, ``--policy X``): checked when the full set
    # was built, so an exclusion or a ``replaces`` may still name them here.
    left_out: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        ids = [document.id for document in self.documents]
        if len(set(ids)) != len(ids):
            raise PolicyError(f"政策集中有重复的政策编号：{', '.join(sorted({i for i in ids if ids.count(i) > 1}))}")
        if self.default_id not in ids:
            raise PolicyError(f"政策集中没有默认政策 {self.default_id}；已有：{', '.join(ids) or '无'}")
        for group in self.cross_exclusions():
            self._check_members(group)
        for document in self.documents:
            if document.replaces:
                self._check_replaces(document)

    @classmethod
    def of(cls, *documents: Policy) -> PolicySet:
        """The given documents; the first is the default."""
        if not documents:
            raise PolicyError("政策集至少需要一个政策")
        return cls(_ordered(documents), documents[0].id)

    @classmethod
    def alone(cls, document: Policy) -> PolicySet:
        """One document by itself: the documents its cross-document exclusions name count as left out."""
        named = {policy_id for group in document.cross_exclusions for policy_id, _ in group.members}
        return cls((document,), document.id, frozenset(named - {document.id}))

    @classmethod
    def bundled(cls, policy_id: str | None = None) -> PolicySet:
        """Every policy shipped with Bangfu, or only ``policy_id`` (PolicyError naming the ones there are).

        One document alone is still checked with the others (its cross-document exclusions name them).
        """
        if policy_id is not None:
            load_bundled(policy_id)  # an unknown id: the error names the ones there are
            return cls.bundled().only([policy_id])
        documents = [load_bundled(name) for name in available_policies()]
        return cls(_ordered(documents), DEFAULT_POLICY)

    @classmethod
    def from_option(cls, policy: str | None) -> PolicySet:
        """The CLI's ``--policy``: None for every bundled document, a bundled id, or a policy folder's path.

        A folder is checked together with the bundled documents (in place of a bundled one of its id),
        then the set is narrowed to it.
        """
        if policy is None:
            return cls.bundled()
        path = Path(policy)
        if not path.is_dir():
            return cls.bundled(policy)
        return cls.bundled().with_added(path, in_place=True).only([load_policy(path).id])

    def with_added(self, folder: Path, *, in_place: bool = False) -> PolicySet:
        """This set and the document in ``folder`` (a programme being checked or previewed), checked together.

        ``in_place``: a document of the same id is replaced by the folder's (an edited copy of a bundled
        document); otherwise the same id is an error, since a new version takes a new id and ``replaces``.
        """
        added = load_policy(folder)
        kept = [d for d in self.documents if d.id != added.id]
        if len(kept) < len(self.documents) and not in_place:
            raise PolicyError(f"{folder}/policy.yaml: id: 政策编号 {added.id} 已存在；新版本请用新编号并写 replaces")
        return PolicySet(_ordered([*kept, added]), self.default_id, self.left_out)

    def only(self, ids: Iterable[str]) -> PolicySet:
        """The documents named (e.g. the activated ones); the default stays if it is among them."""
        wanted = set(ids)
        kept = tuple(d for d in self.documents if d.id in wanted)
        if not kept:
            raise PolicyError("政策集中没有任何已启用的政策")
        default = self.default_id if self.default_id in wanted else kept[0].id
        left_out = self.left_out | {d.id for d in self.documents if d.id not in wanted}
        return PolicySet(kept, default, frozenset(left_out))

    @property
    def default(self) -> Policy:
        return self.document(self.default_id)

    def document(self, policy_id: str) -> Policy:
        for document in self.documents:
            if document.id == policy_id:
                return document
        raise PolicyError(f"没有编号为 {policy_id} 的政策；已有：{', '.join(d.id for d in self.documents)}")

    def in_force(self, day: dt.date, region: str | None = None) -> tuple[Policy, ...]:
        """The documents in force on ``day`` for ``region`` (a GB/T 2260 code; None: province-wide ones)."""
        return tuple(d for d in self.documents if d.covers(region) and d.in_force(day))

    def documents_for(self, region: str | None, pinned: tuple[str, ...] | None = None) -> tuple[Policy, ...]:
        """The documents that may answer a case in ``region``: the pinned ones, else every one covering it."""
        if pinned is not None:
            return tuple(self.document(policy_id) for policy_id in pinned)
        return tuple(d for d in self.documents if d.covers(region))

    def last_in_force(self, day: dt.date, region: str | None = None) -> Policy | None:
        """The document covering ``region`` that ended last before ``day`` (what applied most recently)."""
        ended = [d for d in self.documents if d.covers(region) and d.valid_to is not None and d.valid_to < day]
        return max(ended, key=lambda d: d.valid_to or day, default=None)

    def benefit(self, benefit_id: str) -> Benefit | None:
        """The benefit of that id in the first document that has one (ledger rows name a benefit only)."""
        for document in self.documents:
            if benefit_id in document.benefits:
                return document.benefits[benefit_id]
        return None

    def cross_exclusions(self) -> Iterator[CrossExclusion]:
        for document in self.documents:
            yield from document.cross_exclusions

    def _check_replaces(self, document: Policy) -> None:
        """A new version of a document: the same level and region, and no day on which both are in force."""
        where = f"{document.source_dir}/policy.yaml: replaces"
        by_id = {d.id: d for d in self.documents}
        old = by_id.get(document.replaces)
        if old is None:
            if document.replaces in self.left_out:
                return
            raise PolicyError(
                f"{where}: 没有编号为 {document.replaces} 的政策可被替代；已有：{', '.join(by_id)}。"
                "请写被替代的旧版本的编号，或去掉 replaces"
            )
        if (old.level, old.region) != (document.level, document.region):
            raise PolicyError(
                f"{where}: 新版本应与被替代的 {old.id} 属同一层级和地区（{LEVELS[old.level]} {old.region}），"
                f"实为 {LEVELS[document.level]} {document.region}"
            )
        if _overlap(old, document):
            raise PolicyError(
                f"{where}: 执行期 {document.validity_text()} 与被替代的 {old.id}（{old.validity_text()}）重叠；"
                f"新版本应从旧版本结束的次日起施行，或先给旧版本写上 valid.to"
            )

    def _check_members(self, group: CrossExclusion) -> None:
        by_id = {d.id: d for d in self.documents}
        entities = set()
        for policy_id, benefit_id in group.members:
            document = by_id.get(policy_id)
            if document is None and policy_id in self.left_out:
                continue
            if document is None:
                raise PolicyError(
                    f"{group.where}.members: 没有编号为 {policy_id} 的政策（{policy_id}:{benefit_id}）；"
                    f"已有：{', '.join(by_id)}"
                )
            if benefit_id not in document.benefits:
                raise PolicyError(
                    f"{group.where}.members: 政策 {policy_id} 没有项目 {benefit_id}；"
                    f"可用的有：{', '.join(document.benefits)}"
                )
            entities.add(document.benefits[benefit_id].entity.name)
        if len(entities) > 1:
            raise PolicyError(f"{group.where}.members: 成员必须属于同一类对象（个人或单位）")


def _overlap(a: Policy, b: Policy) -> bool:
    """Whether some day lies in both validity periods (an open end runs for ever)."""
    a_end, b_end = a.valid_to or dt.date.max, b.valid_to or dt.date.max
    return a.valid_from <= b_end and b.valid_from <= a_end


def _ordered(documents: Iterable[Policy]) -> tuple[Policy, ...]:
    """Province first, then city, then county; within a level by start date: the order answers list them."""
    return tuple(sorted(documents, key=lambda d: (LEVEL_CODE_LENGTHS[d.level], d.valid_from, d.id)))
