"""The policy set: the documents a command or an app answers with, and which are in force when."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from bangfu.policy.loader import PolicyError
from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet


def test_the_bundled_set_holds_every_document_with_the_2021_policy_as_default(policy: Policy) -> None:
    policies = PolicySet.bundled()
    # province first, then by start date; the county programme last
    assert [d.id for d in policies.documents] == ["shanxi-2021", "shanxi-2026", "linyi-2024"]
    assert policies.default is policies.document("shanxi-2021")
    assert policies.default.benefits.keys() == policy.benefits.keys()
    county = policies.document("linyi-2024")
    assert (county.level, county.region, county.placeholder) == ("county", "140821", "")
    assert policies.document("shanxi-2026").placeholder and policies.document("shanxi-2026").replaces == "shanxi-2021"


def test_in_force_follows_each_documents_validity_and_region() -> None:
    policies = PolicySet.bundled()
    assert policies.in_force(dt.date(2021, 6, 30)) == ()  # the day before 2021-07-01
    assert [d.id for d in policies.in_force(dt.date(2021, 7, 1), "141123")] == ["shanxi-2021"]
    assert [d.id for d in policies.in_force(dt.date(2024, 6, 30), "141123")] == ["shanxi-2021"]
    assert [d.id for d in policies.in_force(dt.date(2024, 6, 30), "140821")] == ["shanxi-2021", "linyi-2024"]
    assert [d.id for d in policies.in_force(dt.date(2024, 6, 30))] == ["shanxi-2021"]  # no place: province only
    assert [d.id for d in policies.in_force(dt.date(2025, 12, 31), "140821")] == ["shanxi-2021"]
    # the 2021 text expired: still reachable by id, not in force; its continuation is
    assert [d.id for d in policies.in_force(dt.date(2026, 1, 1), "140821")] == ["shanxi-2026"]
    assert policies.last_in_force(dt.date(2026, 1, 1), "140821") is policies.document("shanxi-2021")


def test_a_benefit_is_found_by_id_in_its_document() -> None:
    policies = PolicySet.bundled()
    benefit = policies.benefit("transport_cross_province")
    assert benefit is not None and benefit.fund
    assert policies.benefit("no_such_benefit") is None


def test_a_later_document_is_searched_after_the_first(policy: Policy) -> None:
    county = dataclasses.replace(policy, id="linyi-2024", benefits={})
    policies = PolicySet.of(policy, county)
    assert policies.default_id == "shanxi-2021"
    assert policies.document("linyi-2024") is county
    assert policies.benefit("transport_cross_province") is policy.benefits["transport_cross_province"]


def test_a_set_is_refused_with_duplicate_ids_or_a_missing_default(policy: Policy) -> None:
    with pytest.raises(PolicyError, match="重复的政策编号：shanxi-2021"):
        PolicySet.of(policy, policy)
    with pytest.raises(PolicyError, match="没有默认政策 other"):
        PolicySet((policy,), "other")
    with pytest.raises(PolicyError, match="至少需要一个政策"):
        PolicySet.of()
    with pytest.raises(PolicyError, match="没有编号为 other 的政策"):
        PolicySet.of(policy).document("other")


def test_the_policy_option_takes_an_id_or_a_folder(policy_copy: Callable[..., Path]) -> None:
    folder = policy_copy()
    assert PolicySet.from_option(str(folder)).default.source_dir != PolicySet.bundled().default.source_dir
    with pytest.raises(PolicyError, match="没有名为 nowhere-2030 的政策"):
        PolicySet.from_option("nowhere-2030")


def test_one_document_alone_keeps_its_exclusions_naming_the_others() -> None:
    """``--policy linyi-2024``: checked with the bundled set, then narrowed; the others are only left out."""
    alone = PolicySet.bundled("linyi-2024")
    assert [d.id for d in alone.documents] == ["linyi-2024"] and alone.default_id == "linyi-2024"
    assert {"shanxi-2021", "shanxi-2026"} <= alone.left_out
    assert [g.id for g in alone.cross_exclusions()] == ["one_transport_subsidy_a_year"]
    with pytest.raises(PolicyError, match="没有名为 linyi-2030 的政策"):
        PolicySet.bundled("linyi-2030")


def test_a_folder_with_a_bundled_id_is_checked_in_its_place(policy_copy: Callable[..., Path]) -> None:
    folder = policy_copy(source="linyi-2024")
    with pytest.raises(PolicyError, match="政策编号 linyi-2024 已存在；新版本请用新编号并写 replaces"):
        PolicySet.bundled().with_added(folder)
    replaced = PolicySet.bundled().with_added(folder, in_place=True)
    assert replaced.document("linyi-2024").source_dir == str(folder)
    assert [d.id for d in PolicySet.from_option(str(folder)).documents] == ["linyi-2024"]


def _next_version(policy_copy: Callable[..., Path], start: str, level: str = "county", region: str = "140821") -> Path:
    return policy_copy(
        {
            "policy.yaml": [
                ("id: linyi-2024", "id: linyi-2025\nreplaces: linyi-2024"),
                ("level: county", f"level: {level}"),
                ('region: "140821"', f'region: "{region}"'),
                ("from: 2024-01-01\n  to: 2024-12-31", f"from: {start}\n  to: 2025-12-31"),
            ]
        },
        source="linyi-2024",
    )


def test_a_new_version_starts_after_the_one_it_replaces(policy_copy: Callable[..., Path]) -> None:
    following = PolicySet.bundled().with_added(_next_version(policy_copy, "2025-01-01"))
    assert following.document("linyi-2025").replaces == "linyi-2024"
    with pytest.raises(
        PolicyError,
        match=r"replaces: 执行期 2024-12-01 至 2025-12-31 与被替代的 linyi-2024（2024-01-01 至 2024-12-31）重叠",
    ):
        PolicySet.bundled().with_added(_next_version(policy_copy, "2024-12-01"))


def test_replaces_names_an_existing_document_of_the_same_level(policy_copy: Callable[..., Path]) -> None:
    missing = policy_copy({"policy.yaml": [("id: linyi-2024", "id: linyi-2025\nreplaces: linyi-2023")]}, "linyi-2024")
    with pytest.raises(PolicyError, match="replaces: 没有编号为 linyi-2023 的政策可被替代"):
        PolicySet.bundled().with_added(missing)
    with pytest.raises(PolicyError, match="新版本应与被替代的 linyi-2024 属同一层级和地区"):
        PolicySet.bundled().with_added(_next_version(policy_copy, "2025-01-01", level="city", region="1408"))
    itself = policy_copy({"policy.yaml": [("id: linyi-2024", "id: linyi-2024\nreplaces: linyi-2024")]}, "linyi-2024")
    with pytest.raises(PolicyError, match="replaces: 不能替代自身"):
        PolicySet.bundled().with_added(itself, in_place=True)
