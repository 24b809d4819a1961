"""The self-check's answer for a resident: a few plain lines first, built from ``evaluate_all``'s answer.

One line per benefit that may be applied for (its name and the most it pays, in 元), then the ones
that need one more fact (named as the form asks it), then what the others would need (from the
failed conditions, web/plain_words.py). No clause numbers, fund names or 分 here: the officials'
table with all of them stays below, in the details. When no document is in force on the day, the
answer says so plainly and sends the resident to the office (web/where_to_apply.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bangfu.policy.policy_set import PolicySet
from bangfu.web.plain_words import unmet, yuan_text
from bangfu.web.self_check import FACT_FIELDS, SHORT
from bangfu.web.set_answer import PARAMETER, missing_label
from bangfu.web.views import region_name


@dataclass(frozen=True)
class Offer:
    """A benefit the resident may apply for."""

    id: str
    label: str
    amount: str | None  # "800 元"; None for a service or a status (认定) that pays nothing itself
    provisional: bool  # its values are placeholders until the official text
    earlier: str | None  # "2025 年": decided by a document that has since ended, for an event of its period


@dataclass(frozen=True)
class Pending:
    """A benefit the answer cannot decide without more facts: what to fill in or to ask about."""

    id: str
    label: str
    asks: tuple[str, ...]
    likely: bool  # every condition is met; only the amount or a limit needs the fact


@dataclass(frozen=True)
class Unmet:
    label: str
    needs: tuple[str, ...]


@dataclass
class CitizenAnswer:
    date: str
    place: str
    in_force: bool
    last_title: str | None = None
    last_valid_to: str | None = None
    offers: list[Offer] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    unmet: list[Unmet] = field(default_factory=list)

    @property
    def to_apply(self) -> list[tuple[str, str]]:
        """``(id, label)`` of what the resident may go and apply for: the offers, then the pending."""
        return [(o.id, o.label) for o in self.offers] + [(p.id, p.label) for p in self.pending]


def citizen_answer(result: dict[str, Any], policies: PolicySet) -> CitizenAnswer:
    region = result.get("region")
    last = result.get("last_in_force") or {}
    answer = CitizenAnswer(
        date=result["date"],
        place=region_name(region) if region else "山西省",
        in_force=bool(result.get("in_force")),
        last_title=last.get("title"),
        last_valid_to=last.get("valid_to"),
    )
    placeholders = {d["id"] for d in result.get("documents", []) if d.get("placeholder")}
    for benefit in result["benefits"]:
        status = benefit["status"]
        if status == "granted":
            answer.offers.append(_offer(benefit, result["date"], benefit["document"] in placeholders))
        elif status == "needs_information":
            answer.pending.append(_pending(benefit, policies))
        elif status == "not_eligible":
            needs = unmet(benefit, policies)
            if needs:
                answer.unmet.append(Unmet(benefit["label"], tuple(needs)))
        # excluded: another benefit is given instead (the details say which); not_in_force: not this document's
    offered = {o.label for o in answer.offers} | {p.label for p in answer.pending}
    # the same benefit in two versions of a document (2021 and its 2026 continuation): say it once
    answer.unmet = [u for i, u in enumerate(answer.unmet) if u.label not in offered and u not in answer.unmet[:i]]
    return answer


def _offer(benefit: dict[str, Any], asked: str, placeholder_document: bool) -> Offer:
    amount = yuan_text(benefit["amount_fen"]) if benefit["fund"] != "none" and benefit["amount_fen"] > 0 else None
    provisional = placeholder_document or any(p.get("placeholder") for p in benefit.get("parameters", []))
    decided_on = benefit.get("decided_on") or asked
    earlier = f"{decided_on[:4]} 年" if decided_on != asked else None
    return Offer(benefit["id"], benefit["label"], amount, provisional, earlier)


def _pending(benefit: dict[str, Any], policies: PolicySet) -> Pending:
    asks: list[str] = []
    for path in benefit.get("missing", []):
        ask = _ask(path, benefit, policies)
        if ask not in asks:
            asks.append(ask)
    return Pending(benefit["id"], benefit["label"], tuple(asks), benefit.get("eligible") is True)


def _ask(path: str, benefit: dict[str, Any], policies: PolicySet) -> str:
    """A missing fact as the form names it; a local standard not set yet as something to ask about."""
    if path.startswith(PARAMETER):
        label = missing_label(policies, str(benefit.get("document")), path)
        return label.replace("当地标准", "当地还没有公布的标准").replace("（尚未设定）", "") + "（请向当地咨询）"
    tail = path.rsplit(".", 1)[-1]
    form_field = FACT_FIELDS.get(tail)
    if form_field is not None:
        return SHORT[form_field]
    if tail == "risk_removed_on":
        return "防返贫监测的风险是否已经消除（请问村委会）"
    if tail == "received":
        return "以前是否享受过这项补贴（请向当地咨询）"
    return "其他情况（请向当地咨询）"
