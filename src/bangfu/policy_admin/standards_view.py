"""What the local-standards page shows an administrator: the standards its level owns, their value now,
where that value comes from (province, city or county, and which local document), and their history;
and how the page's form turns into a proposal (money typed in 元, errors by field)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from bangfu.core import regions
from bangfu.core.money import parse_yuan
from bangfu.policy.local_standards import LEVEL_OF_LENGTH, Period, Proposal, settable
from bangfu.policy.model import LEVELS, Policy
from bangfu.policy.parameters import UNIT_LABELS, Parameter, format_value
from bangfu.policy.policy_set import PolicySet
from bangfu.policy_admin.local_standards import StandardRefused, history

SOURCE_LABELS = {"province": "省级（政策原文）", "city": "市级", "county": "县级"}


@dataclass(frozen=True)
class StandardRow:
    document: Policy
    parameter: Parameter
    day: dt.date  # the day "current" refers to: today, or the document's last day once it has ended
    shown: str  # the current value as an official reads it
    source: str  # 省级（政策原文） / 市级 / 县级
    source_document: str  # the local document's number and title, or the province document's
    history: list[Period]

    @property
    def unit_label(self) -> str:
        return "元" if self.parameter.unit == "fen" else UNIT_LABELS.get(self.parameter.unit, "")

    def range_text(self) -> str:
        value_range = self.parameter.range
        if value_range is None:
            return ""
        low, high = (format_value(v, self.parameter.unit) for v in (value_range.low, value_range.high))
        return f"{low}—{high}"


def level_of(region_code: str) -> str:
    return LEVEL_OF_LENGTH.get(len(regions.canonical(region_code)), "")


def _day(document: Policy, today: dt.date) -> dt.date:
    if document.valid_to is not None and today > document.valid_to:
        return document.valid_to
    return max(today, document.valid_from)


def standard_rows(
    connection: Connection, policies: PolicySet, region_code: str, today: dt.date, key: str | None = None
) -> list[StandardRow]:
    """The standards an administrator of ``region_code`` may set, in every document covering it."""
    region = regions.canonical(region_code)
    level = level_of(region)
    rows = []
    for document in policies.documents:
        if not document.covers(region):
            continue
        for parameter in settable(document, level):
            if key is not None and parameter.key != key:
                continue
            day = _day(document, today)
            resolved = parameter.resolve(day, region)
            source, source_document = "", ""
            if resolved.value is not None and resolved.level is not None and resolved.citation is not None:
                source = SOURCE_LABELS[LEVEL_OF_LENGTH.get(len(resolved.level), "province")]
                citation = resolved.citation
                source_document = (
                    f"{citation.document}《{citation.quote}》" if len(resolved.level) > 2 else document.title
                )
            codes = [region] if level == "city" else [region, regions.city_of(region)]
            rows.append(
                StandardRow(
                    document=document,
                    parameter=parameter,
                    day=day,
                    shown=format_value(resolved.value, parameter.unit),
                    source=source,
                    source_document=source_document,
                    history=history(connection, document.id, parameter.key, codes),
                )
            )
    return rows


def level_label(region_code: str) -> str:
    return LEVELS.get(level_of(region_code), "")


@dataclass(frozen=True)
class StandardForm:
    """The form as typed, kept to show it again beside its errors."""

    value: str = ""
    valid_from: str = ""
    valid_to: str = ""
    document_number: str = ""
    document_title: str = ""


def proposal_from(form: StandardForm, document_id: str, parameter: Parameter, region_code: str) -> Proposal:
    """The proposal the form describes; StandardRefused naming each field that cannot be read."""
    errors: dict[str, str] = {}
    value = 0
    text = form.value.strip().replace(",", "").replace("，", "")
    if not text:
        errors["value"] = "请填写标准" + ("（单位：元，如 300 或 300.50）" if parameter.unit == "fen" else "")
    elif parameter.unit == "fen":
        try:
            value = parse_yuan(text)
        except ValueError:
            errors["value"] = f"金额“{form.value}”格式不正确：应为元，最多两位小数，如 300 或 300.50"
    elif text.isdigit():
        value = int(text)
    else:
        errors["value"] = f"“{form.value}”不是整数：请填写{UNIT_LABELS.get(parameter.unit, '')}数，如 180"
    starts = _date(form.valid_from, "valid_from", "生效日期", errors, required=True)
    ends = _date(form.valid_to, "valid_to", "截止日期", errors, required=False)
    if errors:
        raise StandardRefused(errors)
    assert starts is not None
    return Proposal(
        document_id=document_id,
        parameter_key=parameter.key,
        region_code=region_code,
        value=value,
        valid_from=starts,
        valid_to=ends,
        document_number=form.document_number.strip(),
        document_title=form.document_title.strip(),
    )


def _date(text: str, field: str, label: str, errors: dict[str, str], *, required: bool) -> dt.date | None:
    if not text.strip():
        if required:
            errors[field] = f"请填写{label}（如 2024-01-01）"
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = f"{label}“{text}”格式不正确：应为 年-月-日，如 2024-01-01"
        return None
