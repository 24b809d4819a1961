"""docs/suspect-checks.md names every column of the layout and every bundled rule and aggregate."""

from __future__ import annotations

from pathlib import Path

from bangfu.checks.ruleset import load_rules
from bangfu.registry.national_layout import COLUMNS

DOC = Path(__file__).resolve().parents[2] / "docs" / "suspect-checks.md"


def test_every_column_is_documented_with_its_field_name() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [c.label for c in COLUMNS if f"| {c.label} | `{c.field}` |" not in text]
    assert missing == []


def test_every_bundled_rule_and_aggregate_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    rules = load_rules(registry=True)
    assert [r.id for r in rules.rules if f"| {r.id} | {r.severity_label} | {r.description} |" not in text] == []
    assert [name for name in rules.aggregates if f"| `{name}` |" not in text] == []
