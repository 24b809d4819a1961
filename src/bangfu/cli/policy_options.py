"""``--policy``: the policy set a ``bangfu policy …`` command works with."""

from __future__ import annotations

from typing import Annotated

import typer

from bangfu.cli.errors import fail
from bangfu.policy.loader import PolicyError
from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet

PolicyOption = Annotated[
    str | None, typer.Option("--policy", help="只用这一个政策：政策编号，或政策目录的路径；默认为全部内置政策")
]


def policy_set(policy: str | None) -> PolicySet:
    """The command's policy set: the bundled policy ``--policy`` names, or the policy folder at that path."""
    try:
        return PolicySet.from_option(policy)
    except PolicyError as exc:
        fail(str(exc))


def get_policy(policy: str | None) -> Policy:
    """The one document a single-document command works on: ``--policy``, else the default (shanxi-2021)."""
    return policy_set(policy).default
