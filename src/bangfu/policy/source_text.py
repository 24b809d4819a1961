"""The policy document's own words, clause by clause, for pages that show a provision beside its text.

A policy folder may carry ``source.zh.txt``, the document as published. Its numbered clauses start a
paragraph with a full-width parenthesised number (（四）推进劳务输出。…), which is how Chinese
policy documents are cited; each clause's text runs to the end of that paragraph.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from bangfu.policy.model import Policy

SOURCE_FILE = "source.zh.txt"
_CLAUSE = re.compile(r"^(（[一二三四五六七八九十]+）)\s*(.+)$")


def parse_clauses(text: str) -> dict[str, str]:
    """{"（四）": "推进劳务输出。强化组织协调…", …} from the document's text."""
    clauses: dict[str, str] = {}
    for line in text.splitlines():
        match = _CLAUSE.match(line.strip())
        if match:
            clauses[match.group(1)] = match.group(2).strip()
    return clauses


@cache
def _clauses_in(folder: str) -> dict[str, str]:
    path = Path(folder) / SOURCE_FILE
    return parse_clauses(path.read_text(encoding="utf-8")) if path.is_file() else {}


def clause_texts(policy: Policy) -> dict[str, str]:
    """The policy's clauses by citation; empty when its folder carries no source text."""
    return _clauses_in(policy.source_dir) if policy.source_dir else {}
