"""Policy documents for the page tests, made in a temporary folder from the bundled 2021 text.

The bundled set changes as programmes are added; these tests need a set they control: the province's
2021 document as shipped, a county's programme of one year, a province continuation whose values are
placeholders, and a city programme that starts next year.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import yaml

from bangfu.policy.loader import load_policy, policies_root
from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet

XING = "141123"
COUNTY_TITLE = "兴县2024年脱贫劳动力外出务工交通补助实施办法（测试）"
PLACEHOLDER_TITLE = "山西省就业帮扶常态化政策（测试，暂定）"
UPCOMING_TITLE = "吕梁市就业帮扶接续政策（测试）"
PLACEHOLDER_NOTE = "各项标准沿用2021年文件，待正式文件印发后更新"


def make_document(
    folder: Path,
    policy_id: str,
    title: str,
    valid: dict[str, Any],
    *,
    level: str = "province",
    region: str = "14",
    placeholder: str = "",
) -> Policy:
    """A copy of shanxi-2021 under another id, title, level, region and validity."""
    target = folder / policy_id
    shutil.copytree(policies_root() / "shanxi-2021", target, ignore=shutil.ignore_patterns("tests"))
    meta_path = target / "policy.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    meta.update(id=policy_id, title=title, level=level, region=region, valid=valid)
    meta["reference"]["document"] = policy_id
    if placeholder:
        meta["placeholder"] = placeholder
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    return load_policy(target)


def documents_set(folder: Path) -> PolicySet:
    """The province 2021 (default), a 兴县 programme of 2024, a province placeholder from 2026, a 吕梁 one next year."""
    next_year = dt.date.today().year + 1
    return PolicySet.of(
        PolicySet.bundled("shanxi-2021").default,
        make_document(
            folder,
            "xing-2024",
            COUNTY_TITLE,
            {"from": dt.date(2024, 1, 1), "to": dt.date(2024, 12, 31)},
            level="county",
            region=XING,
        ),
        make_document(
            folder, "province-2026", PLACEHOLDER_TITLE, {"from": dt.date(2026, 1, 1)}, placeholder=PLACEHOLDER_NOTE
        ),
        make_document(
            folder,
            "lvliang-next",
            UPCOMING_TITLE,
            {"from": dt.date(next_year, 1, 1)},
            level="city",
            region="1411",
        ),
    )


def without(policies: PolicySet, *ids: str) -> PolicySet:
    return policies.only(d.id for d in policies.documents if d.id not in ids)
