"""Where a resident applies and what to bring, per county: data in ``where-to-apply.yaml`` (ADR 0026).

The bundled file (``policies/where-to-apply.yaml``) holds the general advice every county starts with;
a deployment replaces it by a file of the same name in ``BANGFU_POLICY_DIR``, where a county that has
checked its office, address, phone and hours writes them. Read when it changes (by modification time),
so an edit shows without a restart; a file that does not read is logged and the bundled one is used,
so a typo never takes the public self-check down.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bangfu.core import regions
from bangfu.policy.loader import policies_root

FILE_NAME = "where-to-apply.yaml"
FIELDS = ("office", "address", "phone", "hours", "note")
LOG = logging.getLogger(__name__)


class WhereToApplyError(ValueError):
    """The file does not say where to apply in the shape this module reads; the message says where."""


@dataclass(frozen=True)
class Office:
    office: str
    address: str
    phone: str
    hours: str
    note: str
    documents: Mapping[str, tuple[str, ...]]  # "all" and benefit ids -> what to bring


@dataclass(frozen=True)
class Guide:
    """What the page shows for one county: its office, and what to bring for the benefits named."""

    county: str | None  # the county's name in words, None when the resident named none
    own: bool  # the county set its own entry (else the general advice, marked as such)
    office: Office
    documents: tuple[str, ...]  # everything to bring, once each
    per_benefit: tuple[tuple[str, tuple[str, ...]], ...]  # (benefit label, its own documents)


@dataclass(frozen=True)
class Offices:
    default: Office
    counties: Mapping[str, Office]

    def guide(self, county: str | None, benefits: list[tuple[str, str]]) -> Guide:
        """The guide for ``county`` (a code or None) and the ``(id, label)`` of the benefits to apply for."""
        own = county is not None and county in self.counties
        office = self.counties[county] if own and county is not None else self.default
        documents = list(office.documents.get("all", ()))
        per_benefit = []
        for benefit_id, label in benefits:
            extra = office.documents.get(benefit_id, ())
            if extra:
                per_benefit.append((label, extra))
            documents += [d for d in extra if d not in documents]
        found = regions.get(county) if county else None
        return Guide(found.name if found else None, own, office, tuple(documents), tuple(per_benefit))


def bundled_file() -> Path:
    return policies_root() / FILE_NAME


def offices(policy_dir: Path | None) -> Offices:
    """The deployment's file when there is one and it reads, else the bundled one."""
    local = policy_dir / FILE_NAME if policy_dir is not None else None
    if local is not None and local.is_file():
        try:
            return _read(local, local.stat().st_mtime_ns)
        except (OSError, WhereToApplyError) as exc:
            LOG.error("办理地点文件 %s 无法读取，暂用内置的通用指引：%s", local, exc)
    path = bundled_file()
    return _read(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _read(path: Path, _mtime: int) -> Offices:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WhereToApplyError(f"{path.name}: 不是有效的 YAML：{exc}") from exc
    return parse(data, path.name)


def parse(data: Any, where: str) -> Offices:
    """Check and read the file's content; unknown keys and non-Shanxi counties are errors, not ignored."""
    if not isinstance(data, dict) or set(data) - {"default", "counties"} or "default" not in data:
        raise WhereToApplyError(f"{where}: 应有 default（通用指引），可有 counties（按县设置）")
    default = _office(data["default"], None, f"{where}: default")
    if not default.office:
        raise WhereToApplyError(f"{where}: default.office 不能为空")
    counties = data.get("counties") or {}
    if not isinstance(counties, dict):
        raise WhereToApplyError(f"{where}: counties 应按县级行政区划代码列出")
    read: dict[str, Office] = {}
    for code, entry in counties.items():
        code = str(code)
        found = regions.get(code)
        if found is None or found.level != "county" or not regions.is_shanxi(code):
            raise WhereToApplyError(f"{where}: counties.{code} 不是山西省的县级行政区划代码")
        read[code] = _office(entry, default, f"{where}: counties.{code}")
    return Offices(default, read)


def _office(entry: Any, default: Office | None, where: str) -> Office:
    if not isinstance(entry, dict) or set(entry) - {*FIELDS, "documents"}:
        allowed = "、".join((*FIELDS, "documents"))
        raise WhereToApplyError(f"{where}: 可写的项目为 {allowed}")
    values = {key: _text(entry.get(key), where, key) for key in FIELDS}
    if default is not None:
        # what a county leaves out is the general advice, except the note: it speaks of the default office
        values = {key: values[key] or (getattr(default, key) if key != "note" else "") for key in FIELDS}
    documents = dict(default.documents) if default is not None else {}
    raw = entry.get("documents") or {}
    if not isinstance(raw, dict):
        raise WhereToApplyError(f"{where}.documents: 应为 all 和各政策项目编号下的材料清单")
    for key, items in raw.items():
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise WhereToApplyError(f"{where}.documents.{key}: 应为材料名称的列表")
        documents[str(key)] = tuple(i.strip() for i in items)
    return Office(**values, documents=documents)


def _text(value: Any, where: str, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise WhereToApplyError(f"{where}.{key}: 应为文字")
    return str(value).strip()
