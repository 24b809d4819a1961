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


def test_the_bundled_set_holds_the_shanxi_policy_as_default(policy: Policy) -> None:
    policies = PolicySet.bundled()
    assert [d.id for d in policies.documents] == ["shanxi-2021"]
    assert policies.default is policies.document("shanxi-2021")
    assert policies.default.benefits.keys() == policy.benefits.keys()


def test_in_force_follows_each_documents_validity() -> None:
    policies = PolicySet.bundled()
    assert policies.in_force(dt.date(2021, 6, 30)) == ()  # the day before 2021-07-01
    assert [d.id for d in policies.in_force(dt.date(2021, 7, 1), "141123")] == ["shanxi-2021"]
    assert [d.id for d in policies.in_force(dt.date(2025, 12, 31))] == ["shanxi-2021"]
    assert policies.in_force(dt.date(2026, 1, 1)) == ()  # expired: still reachable by id, not in force


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
