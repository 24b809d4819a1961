"""The policy page's content: each document's clauses, each printed once with the provisions beside it.

A document's provisions, standards and exclusions cite their clause (（四）); the page prints a clause's
text once and lists under it everything that cites it, in the order of the text. A standard the text
leaves to the city or county says who sets it (市级/县级) and where it is set; it is never called
"全省统一" while no province-wide value exists. Everything is read as on one day (``?date=``): which
documents are in force, and which of a standard's dated values applies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from bangfu.core import regions
from bangfu.policy.catalog import DOCUMENT_STATES, describe_set
from bangfu.policy.model import LEVELS, Policy
from bangfu.policy.parameters import DatedValue, Parameter, format_value
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.source_text import clause_texts
from bangfu.web.set_answer import Heading, heading

CLAUSE_NUMBER = re.compile(r"（[一二三四五六七八九十]+）")
# A clause's title: its text up to the first full stop (（四）推进劳务输出。…).
TITLE_END = "。"


def state_labels(day: dt.date, today: dt.date) -> dict[str, str]:
    """The document states as headings: "今日…" for today, the day itself for another."""
    if day == today:
        return dict(DOCUMENT_STATES)
    return {
        "in_force": f"{day} 执行中",
        "in_force_elsewhere": f"{day} 在其他地区执行",
        "upcoming": f"{day} 尚未施行",
        "expired": f"{day} 前已结束",
    }


@dataclass
class StandardRow:
    """A parameter as the page shows it."""

    label: str
    citation: str
    quote: str
    value: str  # what applies on the day across the document's area, in words
    other_periods: list[str]  # its other dated values
    set_by: str  # who sets it, in words (省级文件规定, 市级制定, 县级制定…)
    local: list[str]  # regions' own standards in force on the day ("吕梁市：300.00 元")
    local_note: str  # what the local column says when ``local`` is empty
    here: str | None  # the value for the viewer's region on the day, when it differs by region
    placeholder: bool
    note: str


@dataclass
class ClauseSection:
    anchor: str
    citation: str
    title: str
    text: str | None
    benefits: list[dict[str, Any]] = field(default_factory=list)
    standards: list[StandardRow] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DocumentSection:
    info: dict[str, Any]
    heading: Heading
    anchor: str
    clauses: list[ClauseSection]
    labels: dict[str, str]  # what its exclusions call their members


def _period(value: DatedValue) -> str:
    return f"{value.start} 起" + (f"，至 {value.end}" if value.end else "")


def _setter(parameter: Parameter, document: Policy) -> str:
    if parameter.set_by == "city":
        return "市级制定" + ("（县级可另定本县标准）" if parameter.county_may_override else "")
    if parameter.set_by == "county":
        return "县级制定"
    return f"{LEVELS[document.level]}文件规定"


def _local(parameter: Parameter, day: dt.date) -> list[str]:
    shown = []
    for code, values in sorted(parameter.overrides.items()):
        current = next((v for v in values if v.covers(day) and v.value is not None), None)
        if current is not None:
            value = format_value(current.value, parameter.unit)
            shown.append(f"{regions.name_of(code)}：{value}（{_period(current)}）")
    return shown


def _standard(parameter: Parameter, document: Policy, day: dt.date, region: str | None) -> StandardRow:
    current = next((v for v in parameter.values if v.covers(day) and v.value is not None), None)
    local = _local(parameter, day)
    if parameter.informational:
        value = "按有关规定执行（本平台不据此计算）"
    elif current is not None:
        value = f"{format_value(current.value, parameter.unit)}（{_period(current)}）"
    elif parameter.set_by:
        who = "市级" if parameter.set_by == "city" else "县级"
        value = f"{LEVELS[document.level]}文件未定统一标准，由{who}人社部门制定"
    else:
        value = "该日没有适用的标准"
    if parameter.set_by:
        local_note = "本平台尚无地区设定" if not parameter.informational else "按各地规定"
    elif document.level == "province":
        local_note = "全省统一"
    else:
        local_note = f"{regions.name_of(document.region)}统一"
    here = None
    if region and (parameter.set_by or parameter.overrides) and not parameter.informational:
        resolved = parameter.resolve(day, region)
        shown = format_value(resolved.value, parameter.unit) if resolved.value is not None else "尚未设定"
        here = f"{regions.name_of(region)}适用：{shown}"
    return StandardRow(
        label=parameter.label,
        citation=parameter.citation.clause,
        quote=parameter.citation.quote,
        value=value,
        other_periods=[
            f"{format_value(v.value, parameter.unit)}（{_period(v)}）"
            for v in parameter.values
            if v is not current and v.value is not None
        ],
        set_by=_setter(parameter, document),
        local=local,
        local_note=local_note,
        here=here,
        placeholder=parameter.placeholder,
        note=parameter.note,
    )


def _clause_keys(citation: str) -> list[str]:
    """The clauses a citation names: （五）（十） is both; an unnumbered one (补贴标准（摘要）) is itself."""
    numbered = CLAUSE_NUMBER.findall(citation)
    return numbered if numbered and "".join(numbered) == citation else [citation]


def _title(citation: str, text: str | None) -> str:
    if not text:
        return citation
    head = text.split(TITLE_END, 1)[0]
    return f"{citation}{head}" if len(head) <= 30 else citation


def _sections(
    info: dict[str, Any], document: Policy, day: dt.date, region: str | None, anchor: str
) -> list[ClauseSection]:
    texts = clause_texts(document)
    sections: dict[str, ClauseSection] = {}

    def section(citation: str) -> ClauseSection:
        if citation not in sections:
            number = len(sections) + 1
            sections[citation] = ClauseSection(
                f"{anchor}-c{number}", citation, _title(citation, texts.get(citation)), texts.get(citation)
            )
        return sections[citation]

    for benefit in info["benefits"]:
        for key in _clause_keys(benefit["clause"]):
            section(key).benefits.append(benefit)
    for parameter in document.parameters.values():
        row = _standard(parameter, document, day, region)
        for key in _clause_keys(parameter.citation.clause):
            section(key).standards.append(row)
    for group in [*info["exclusions"], *info["cross_exclusions"]]:
        for key in _clause_keys(group["clause"]):
            section(key).exclusions.append(group)
    order = list(texts)
    return sorted(sections.values(), key=lambda s: order.index(s.citation) if s.citation in order else len(order))


def _keys_in_words(info: dict[str, Any]) -> dict[str, Any]:
    """A benefit's note may cite a parameter by its key (参数 employment_difficulty.min_unemployed_days):
    the page names it by its label instead."""
    labels = sorted(((p["key"], f"“{p['label']}”") for p in info["parameters"]), key=lambda kv: -len(kv[0]))
    benefits = []
    for benefit in info["benefits"]:
        note = benefit["note"] or ""
        for key, label in labels:
            note = note.replace(f"参数 {key}", label).replace(key, label)
        benefits.append({**benefit, "note": note})
    return {**info, "benefits": benefits}


def policy_documents(policies: PolicySet, day: dt.date, region: str | None) -> list[DocumentSection]:
    """Every document as on ``day`` for ``region`` (None: anyone), in force there first."""
    # exclusions name benefits by label: a member of this document by its own, of another with its title
    names = {
        f"{document.id}:{benefit.id}": f"《{document.title}》{benefit.label}"
        for document in policies.documents
        for benefit in document.benefits.values()
    }
    documents = []
    for number, info in enumerate(describe_set(policies, day, region), start=1):
        anchor = f"wenjian-{number}"
        described = _keys_in_words(info)
        document = policies.document(info["id"])
        clauses = _sections(described, document, day, region, anchor)
        labels = {b["id"]: b["label"] for b in info["benefits"]} | names
        documents.append(DocumentSection(described, heading(info), anchor, clauses, labels))
    return documents
