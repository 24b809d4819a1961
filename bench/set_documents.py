"""The three documents the set benchmarks evaluate: the province's 2021 document, a 2026-like continuation
carrying the transport subsidies forward, and a county programme (临猗县, 140821) paying them too, with
cross-document exclusions (one of each subsidy per person and year, the county's first).

The copies are made by ``tests/document_copies.py``, the helper whose documents the equivalence
tests hold to the single-case engine. They are dated so that all three are in force on the benchmark
date (2024-06-30), the heaviest case: every document decides every benefit it has.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bangfu.policy.policy_set import PolicySet
from document_copies import TRANSPORT, cross_exclusion, derived_document

CONTINUATION = "bench-continuation"
COUNTY = "bench-county"


def three_document_set(root: Path) -> PolicySet:
    """shanxi-2021 + the continuation (province, 2024–2030) + the county programme (140821, 2024–2026)."""
    root.mkdir(parents=True, exist_ok=True)
    continuation = derived_document(
        root,
        CONTINUATION,
        level="province",
        region="14",
        valid_from="2024-01-01",
        valid_to="2030-12-31",
        only=TRANSPORT,
    )
    groups = [
        cross_exclusion(
            f"{benefit}_once",
            [f"{COUNTY}:{benefit}", f"{CONTINUATION}:{benefit}", f"shanxi-2021:{benefit}"],
            "calendar_year",
        )
        for benefit in TRANSPORT
    ]
    county = derived_document(
        root,
        COUNTY,
        level="county",
        region="140821",
        valid_from="2024-01-01",
        valid_to="2026-12-31",
        only=TRANSPORT,
        cross_exclusions=groups,
    )
    return PolicySet.bundled("shanxi-2021").with_added(continuation).with_added(county)
