"""Templates and what they may call: labels, money, region names, and bar charts drawn as inline SVG.

Charts are drawn on the server as SVG elements with attributes only (no inline style, no script), so
they pass the strict Content-Security-Policy, print well and need no chart library.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from bangfu.access.permissions import PAYMENTS_VIEW, POLICIES_ACTIVATE, STANDARDS_SET, holds
from bangfu.accounts.administration import may_administer_accounts
from bangfu.core import regions
from bangfu.core.money import format_yuan
from bangfu.core.vocabulary import (
    CATEGORY_LABELS,
    KIND_LABELS,
    LABOR_CAPACITY_LABELS,
    RECOGNITION_LABELS,
    ROLE_LABELS,
    SEX_LABELS,
)
from bangfu.policy.facts import ENTITIES
from bangfu.policy.model import FUNDS
from bangfu.policy.parameters import format_value

BEIJING = dt.timezone(dt.timedelta(hours=8), "北京时间")
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, BAR_AREA, VALUE_WIDTH = 24, 8, 180, 170, 110


def region_name(code: str | None) -> str:
    if not code:
        return "—"
    return regions.full_name(code) if regions.get(code) else code


def yuan(fen: int | None) -> str:
    return "—" if fen is None else format_yuan(fen)


def local_time(moment: dt.datetime | None) -> str:
    """A stored moment (UTC) as read in Shanxi: China has one time zone, UTC+8, and no summer time."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def bar_chart(items: Sequence[tuple[Any, ...]], title: str, money: bool = False) -> Markup:
    """Horizontal bars, one per (label, value) or (label, value, link), scaled to the largest value;
    values written beside them. A bar with a link opens it (the list the figure counts)."""
    if not items:
        return Markup('<p class="muted">暂无数据</p>')
    largest = max((item[1] for item in items), default=0) or 1
    height = len(items) * (BAR_HEIGHT + BAR_GAP)
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    rows = []
    for index, (label, value, *link) in enumerate(items):
        y = index * (BAR_HEIGHT + BAR_GAP)
        length = max(1, round(BAR_AREA * max(value, 0) / largest)) if value > 0 else 0
        shown = format_yuan(value) if money else f"{value:,}"
        row = (
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" rx="2"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 17}">{escape(shown)}</text>'
        )
        if link and link[0]:
            row = f'<a href="{escape(link[0])}" aria-label="{escape(label)}：{escape(shown)}">{row}</a>'
        rows.append(row)
    # An image's parts are not reachable: a chart whose bars are links is a group of links instead.
    role = "group" if any(len(item) > 2 and item[2] for item in items) else "img"
    return Markup(
        f'<svg class="bars" role="{role}" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>{"".join(rows)}</svg>'
    )


_INDEX = re.compile(r"\[\d+\]")


def fact_label(path: str) -> str:
    """A missing fact's JSON path (person.employment[0].travel_cost_fen) in words (务工经历·申报交通费)."""
    entity_name, _, rest = _INDEX.sub("", path).partition(".")
    entity = ENTITIES.get(entity_name)
    if entity is None:
        return path
    head, _, tail = rest.partition(".")
    collection = entity.collections.get(head)
    if collection is not None and tail:
        field = next((f for f in collection.fields.values() if ".".join(f.path) == tail), None)
        return f"{collection.label}·{field.label}" if field else path
    field = next((f for f in entity.fields.values() if ".".join(f.path) == rest), None)
    return field.label if field else path


def make_templates() -> Jinja2Templates:
    folder = resources.files("bangfu.web") / "templates"
    templates = Jinja2Templates(directory=str(folder))
    helpers: dict[str, Any] = {
        "region_name": region_name,
        "may_administer_accounts": may_administer_accounts,
        "may_set_standards": lambda account: holds(account.role, STANDARDS_SET),
        "may_activate_policies": lambda account: holds(account.role, POLICIES_ACTIVATE),
        "may_see_payments": lambda account: holds(account.role, PAYMENTS_VIEW),
        "fact_label": fact_label,
        "organization_fact_label": lambda name: getattr(ENTITIES["organization"].fields.get(name), "label", name),
        "yuan": yuan,
        "format_standard": format_value,
        "bar_chart": bar_chart,
        "local_time": local_time,
        "role_label": lambda code: ROLE_LABELS.get(code, code),
        "category_label": lambda code: CATEGORY_LABELS.get(code, code),
        "labor_label": lambda code: LABOR_CAPACITY_LABELS.get(code, "未登记") if code else "未登记",
        "sex_label": lambda code: SEX_LABELS.get(code, code),
        "kind_label": lambda code: KIND_LABELS.get(code, code),
        "recognition_label": lambda code: RECOGNITION_LABELS.get(code, code),
        "fund_label": lambda code: FUNDS.get(code, "其他"),
        "yes_no": lambda value: "—" if value is None else ("是" if value else "否"),
        "CATEGORY_LABELS": CATEGORY_LABELS,
        "KIND_LABELS": KIND_LABELS,
        "LABOR_CAPACITY_LABELS": LABOR_CAPACITY_LABELS,
    }
    templates.env.globals.update(helpers)
    return templates
