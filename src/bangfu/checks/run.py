"""Run a rule set over one downloaded file: load it, decide which rules can run, run each as one query.

A rule runs only when the file has every column it reads (a download without 风险消除时间 cannot be
checked for it, and saying "0 suspects" would be a lie); it is then listed as not checked, with the
missing columns named. Results are row numbers in a DuckDB table ``hits`` (rule, row_no), from which
the report writer reads the rows.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bangfu.checks.queries import aggregates_sql, rule_sql
from bangfu.checks.ruleset import Rule, RuleSet
from bangfu.checks.schema import IDENTITY_FIELDS
from bangfu.checks.source import LoadedFile, load_file
from bangfu.registry.national_layout import BY_FIELD

# Leaves room for Python and openpyxl under the 4 GB a province-size check is allowed; DuckDB
# spills to its temporary folder beyond it rather than failing.
MEMORY_LIMIT = "2.5GB"


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    count: int | None  # None: not checked
    not_checked: str = ""  # why, in Chinese

    @property
    def checked(self) -> bool:
        return self.count is not None


@dataclass
class CheckRun:
    loaded: LoadedFile
    day: dt.date
    results: list[RuleResult] = field(default_factory=list)
    connection: duckdb.DuckDBPyConnection | None = None

    @property
    def suspects(self) -> list[RuleResult]:
        return [r for r in self.results if r.count]


@contextmanager
def check_file(path: Path, rules: RuleSet, day: dt.date, also: frozenset[str] = frozenset()) -> Iterator[CheckRun]:
    """Load ``path`` and run every enabled rule; the run's DuckDB connection lives inside the block.

    ``also``: fields to load although no rule reads them (the web page reads 市 to place each row).
    """
    with tempfile.TemporaryDirectory(prefix="bangfu-check-") as folder:
        # in memory, spilling to a temporary folder past the limit: no write-ahead log to sync per query
        connection = duckdb.connect(":memory:")
        try:
            connection.execute("SET temp_directory = ?", [str(Path(folder) / "spill")])
            connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            connection.execute("SET preserve_insertion_order = true")  # file order is line order
            connection.execute("SET enable_progress_bar = false")
            # the columns no enabled rule reads and no output shows are not loaded at all
            wanted = IDENTITY_FIELDS.union(also, *(rule.fields for rule in rules.enabled()))
            loaded = load_file(connection, path, wanted)
            run = CheckRun(loaded, day, connection=connection)
            run.results = run_rules(connection, rules, loaded.fields, day)
            yield run
        finally:
            connection.close()


def _missing(rule: Rule, available: frozenset[str]) -> str:
    missing = sorted(rule.fields - available, key=list(BY_FIELD).index)
    return "、".join(BY_FIELD[name].label for name in missing)


def run_rules(
    connection: duckdb.DuckDBPyConnection, rules: RuleSet, available: frozenset[str], day: dt.date
) -> list[RuleResult]:
    runnable = [rule for rule in rules.enabled() if rule.fields <= available]
    needed = [rules.aggregates[name] for name in dict.fromkeys(n for r in runnable for n in r.aggregates)]
    if needed:
        connection.execute(f"CREATE TABLE aggregates AS {aggregates_sql(needed, day)}")
    connection.execute("CREATE TABLE hits (rule VARCHAR, row_no BIGINT)")
    results = []
    for rule in rules.enabled():
        if rule not in runnable:
            results.append(RuleResult(rule, None, f"未核查：文件缺少列 {_missing(rule, available)}"))
            continue
        connection.execute(f"INSERT INTO hits SELECT ?, row_no FROM ({rule_sql(rule, day)})", [rule.id])
        # fetchall: DuckDB keeps a connection busy until its last result is read to the end
        [(count,)] = connection.execute("SELECT COUNT(*) FROM hits WHERE rule = ?", [rule.id]).fetchall()
        results.append(RuleResult(rule, int(count)))
    return results
