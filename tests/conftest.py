"""Shared fixtures: the bundled policy, editable copies of it, and one synthetic population."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bangfu.policy.loader import load_bundled, policies_root
from bangfu.policy.model import Policy
from bangfu.synth.population import write_population

POPULATION_PERSONS = 3000
POPULATION_ORGANIZATIONS = 300
POPULATION_SEED = 20240630


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_bundled()


@pytest.fixture
def policy_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy a bundled policy folder (shanxi-2021 unless ``source`` names another) and apply text
    replacements to some of its files.

    ``policy_copy({"benefits/04-labour-export.yaml": [(old, new), ...]})`` replaces the first
    occurrence of each ``old``, which must be present: a mutation that silently does nothing
    (because the bundled YAML changed) fails loudly instead of testing nothing.
    """
    counter = iter(range(1_000))

    def make(edits: dict[str, list[tuple[str, str]]] | None = None, source: str = "shanxi-2021") -> Path:
        folder = tmp_path / f"policy{next(counter)}"
        shutil.copytree(policies_root() / source, folder)
        for relative, replacements in (edits or {}).items():
            path = folder / relative
            text = path.read_text(encoding="utf-8")
            for old, new in replacements:
                assert old in text, f"{old!r} not found in {relative}"
                text = text.replace(old, new, 1)
            path.write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture(scope="session")
def synthetic_population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("population")
    write_population(folder, POPULATION_PERSONS, POPULATION_ORGANIZATIONS, seed=POPULATION_SEED)
    return folder
