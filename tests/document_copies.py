"""Policy documents derived from the bundled 2021 one, for tests and benchmarks of several documents at once.

A copy gets its own id, level, region and validity, may keep only some benefits (with the exclusion
groups among them) and may declare cross-document exclusions. Not a test module; ``bench/`` imports it
too, so that the benchmarks measure the documents the tests hold to the single-case engine.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from bangfu.policy.loader import policies_root


def derived_document(
    root: Path,
    document_id: str,
    *,
    level: str,
    region: str,
    valid_from: str,
    valid_to: str | None,
    only: tuple[str, ...] | None = None,
    cross_exclusions: list[dict[str, Any]] | None = None,
) -> Path:
    """A copy of shanxi-2021 under ``root/document_id``, changed as asked; returns its folder."""
    folder = root / document_id
    shutil.copytree(policies_root() / "shanxi-2021", folder)
    shutil.rmtree(folder / "tests")  # the 2021 rule tests name the 2021 id, dates and benefits
    meta_path = folder / "policy.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    meta.update(id=document_id, title=f"{meta['title']}（测试副本 {document_id}）", level=level, region=region)
    meta["valid"] = {"from": valid_from, "to": valid_to, "note": "测试用副本"}
    if valid_to is None:
        del meta["valid"]["to"]
    _dump(meta_path, meta)
    files = sorted((folder / "benefits").glob("*.yaml"))
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if only is not None:
            data["benefits"] = {k: v for k, v in data["benefits"].items() if k in only}
            kept = [g for g in data.get("exclusions") or [] if set(g["members"]) <= set(only)]
            data["exclusions"] = kept
            if not data["benefits"]:
                path.unlink()
                continue
        _dump(path, data)
    if only is not None:  # a parameter no kept rule reads is refused by the loader
        rules = "".join(path.read_text(encoding="utf-8") for path in (folder / "benefits").glob("*.yaml"))
        for path in sorted((folder / "parameters").glob("*.yaml")):
            parameters = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            read = {k: v for k, v in parameters.items() if f"'{k}'" in rules}
            if read:
                _dump(path, read)
            else:
                path.unlink()
    if cross_exclusions:
        first = sorted((folder / "benefits").glob("*.yaml"))[0]
        data = yaml.safe_load(first.read_text(encoding="utf-8"))
        data["cross_exclusions"] = cross_exclusions
        _dump(first, data)
    return folder


def cross_exclusion(group_id: str, members: list[str], scope: str) -> dict[str, Any]:
    return {
        "id": group_id,
        "members": members,
        "scope": scope,
        "reference": {"clause": "测试", "quote": "同一年度交通补贴只享受一项，按县里确定的顺序"},
        "reason": "交通补贴每人每年只享受一项",
    }


def _dump(path: Path, data: Any) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


TRANSPORT = ("transport_cross_province", "transport_in_province_organized")


def three_documents(root: Path) -> list[Path]:
    """A city programme (吕梁, 1411) in force 2024–2026 and a county one (兴县, 141123) of 2022–2024, both
    with the transport subsidies, beside the province's 2021 document; two cross-document exclusions:
    one cross-province subsidy a year (county first, then province, then city) and one organized
    in-province subsidy ever (city before province)."""
    city = derived_document(
        root,
        "test-city",
        level="city",
        region="1411",
        valid_from="2024-01-01",
        valid_to="2026-12-31",
        cross_exclusions=[
            cross_exclusion(
                "organized_once",
                ["test-city:transport_in_province_organized", "shanxi-2021:transport_in_province_organized"],
                "ever",
            )
        ],
    )
    county = derived_document(
        root,
        "test-county",
        level="county",
        region="141123",
        valid_from="2022-01-01",
        valid_to="2024-12-31",
        only=TRANSPORT,
        cross_exclusions=[
            cross_exclusion(
                "cross_province_once_a_year",
                [
                    "test-county:transport_cross_province",
                    "shanxi-2021:transport_cross_province",
                    "test-city:transport_cross_province",
                ],
                "calendar_year",
            )
        ],
    )
    return [city, county]
