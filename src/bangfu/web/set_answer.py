"""The engine's answer over a policy set (``evaluate_all``) as pages show it: one group per document.

Documents in force come first. Each group is headed by the document as a reader knows it (title,
issuer, level, area, validity, a 暂定标准 mark for a placeholder) and lists its benefits. An
expired document lists only what it still decided (events of its own period, as of its last day),
each saying so; its other benefits are counted, not listed as rows of "不在执行期". When nothing is
in force for the place and day, the answer says so first and names the document that applied last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bangfu.policy.model import LEVELS
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.source_text import clause_texts
from bangfu.web.views import fact_label, region_name

PARAMETER = "parameter:"


@dataclass(frozen=True)
class Heading:
    """A document as a page names it."""

    title: str
    issuer: str
    level: str  # 省级, 市级, 县级
    area: str  # 山西省, 山西省运城市临猗县
    valid_from: str
    valid_to: str | None
    placeholder: str | None  # the note why its values are provisional, or None
    in_force: bool

    @property
    def validity(self) -> str:
        return f"{self.valid_from} 至 {self.valid_to or '长期'}"


@dataclass
class Group:
    heading: Heading
    decided_on: str  # the day the document answered for (its last day, once expired)
    benefits: list[dict[str, Any]] = field(default_factory=list)
    # benefits of an expired document whose event lies outside its period: counted, not listed
    outside_period: int = 0


@dataclass(frozen=True)
class SetAnswer:
    date: str
    groups: list[Group]
    in_force: bool  # some document is in force for the place on the day
    last: dict[str, Any] | None  # the document that applied last, when none is in force

    @property
    def has_rows(self) -> bool:
        return any(group.benefits for group in self.groups)


def heading(document: dict[str, Any]) -> Heading:
    """The heading of an answer's ``documents[]`` entry (or of ``describe_set``'s)."""
    return Heading(
        title=document["title"],
        issuer=document["issuer"],
        level=LEVELS.get(document.get("level") or "province", ""),
        area=region_name(document.get("region") or "14"),
        valid_from=document["valid_from"],
        valid_to=document.get("valid_to"),
        placeholder=document.get("placeholder"),
        in_force=bool(document.get("in_force")),
    )


def decided_note(benefit: dict[str, Any], asked: str) -> str | None:
    """Where a document answered for another day than the one asked (its last day): which day, and
    the event that put the benefit in its period."""
    decided_on = benefit.get("decided_on")
    if not decided_on or decided_on == asked:
        return None
    event = benefit.get("event") or {}
    if event.get("date"):
        return f"按 {decided_on} 的政策判断（{event['label']}：{event['date']}，在该政策执行期内）"
    return f"按 {decided_on} 的政策判断"


def missing_label(policies: PolicySet, document_id: str, path: str) -> str:
    """A missing fact in words; a standard the city or county has not set yet by its name."""
    if not path.startswith(PARAMETER):
        return fact_label(path)
    parameters = next((d.parameters for d in policies.documents if d.id == document_id), {})
    found = parameters.get(path.removeprefix(PARAMETER))
    return f"当地标准“{found.label}”（尚未设定）" if found else "当地标准（尚未设定）"


def _in_words(benefit: dict[str, Any], policies: PolicySet, document_id: str, asked: str) -> dict[str, Any]:
    """The benefit with its missing facts named in words, in the list and inside the engine's reasons
    (which cite them by path), and the day that decided it."""
    labels = {path: missing_label(policies, document_id, path) for path in benefit.get("missing", [])}
    reasons = []
    for reason in benefit["reasons"]:
        for path, label in labels.items():
            reason = reason.replace(path, label)
        reasons.append(reason)
    return {
        **benefit,
        "reasons": reasons,
        "missing_labels": list(labels.values()),
        "decided_note": decided_note(benefit, asked),
    }


def grouped(result: dict[str, Any], policies: PolicySet) -> SetAnswer:
    """``evaluate_all``'s answer by document, each benefit with its missing facts and decision day in words."""
    asked = result["date"]
    groups: list[Group] = []
    for document in result.get("documents", []):
        group = Group(heading(document), document.get("decided_on") or asked)
        for benefit in result["benefits"]:
            if benefit.get("document") != document["id"]:
                continue
            if not group.heading.in_force and benefit["status"] == "not_in_force":
                group.outside_period += 1
                continue
            group.benefits.append(_in_words(benefit, policies, document["id"], asked))
        if group.benefits or group.heading.in_force:
            groups.append(group)
    # what is in force first; ended documents after, with what they still decided (sorted() is stable:
    # within each, the set's order, province first)
    groups = sorted(groups, key=lambda group: not group.heading.in_force)
    return SetAnswer(date=asked, groups=groups, in_force=bool(result.get("in_force")), last=result.get("last_in_force"))


def shown(result: dict[str, Any], policies: PolicySet) -> dict[str, Any]:
    """What ``partials/evaluation.html`` needs besides the page's own switches."""
    region = result.get("region")
    return {
        "answer": grouped(result, policies),
        "place": region_name(region) if region else "山西省",
        "clauses": {document.id: clause_texts(document) for document in policies.documents},
    }
