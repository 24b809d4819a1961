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
from typing import TYPE_CHECKING

import duckdb

from bangfu.checks.queries import aggregates_sql, rule_sql
from bangfu.checks.ruleset import Rule, RuleSet
from bangfu.checks.schema import IDENTITY_FIELDS, ROW_FIELDS, field_label
from bangfu.checks.source import LoadedFile, load_file

if TYPE_CHECKING:  # the file mode needs no database: the store is imported only to check the registry
    from sqlalchemy import Engine

    from bangfu.access.scope import Scope

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
    # the fields of ``registry_rows`` where a file is compared with the registry, for rules ``over: registry``
    registry_fields: frozenset[str] = frozenset()

    @property
    def suspects(self) -> list[RuleResult]:
        return [r for r in self.results if r.count]


@contextmanager
def _check_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection that spills to a temporary folder past the memory limit."""
    with tempfile.TemporaryDirectory(prefix="bangfu-check-") as folder:
        # in memory, spilling to a temporary folder past the limit: no write-ahead log to sync per query
        connection = duckdb.connect(":memory:")
        try:
            connection.execute("SET temp_directory = ?", [str(Path(folder) / "spill")])
            connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            connection.execute("SET preserve_insertion_order = true")  # file order is line order
            connection.execute("SET enable_progress_bar = false")
            yield connection
        finally:
            connection.close()


@contextmanager
def check_file(
    path: Path,
    rules: RuleSet,
    day: dt.date,
    registry: tuple[Engine, Scope] | None = None,
    also: frozenset[str] = frozenset(),
) -> Iterator[CheckRun]:
    """Load ``path`` and run every enabled rule; the run's DuckDB connection lives inside the block.

    ``registry``: the database and scope to look the file's ID numbers up in, for the rules that
    compare a download with the registry (``rules/registry.yaml``). ``also``: fields to load although
    no rule reads them (the web page reads 市 to place each row).
    """
    with _check_connection() as connection:
        # the columns no enabled rule reads and no output shows are not loaded at all
        wanted = IDENTITY_FIELDS.union(also, *(rule.fields for rule in rules.enabled()))
        loaded = load_file(connection, path, wanted)
        available = loaded.fields
        run = CheckRun(loaded, day, connection=connection)
        if registry is not None:
            from bangfu.checks.registry_lookup import add_registry_fields, add_registry_rows

            available |= add_registry_fields(connection, *registry)
            run.registry_fields = add_registry_rows(connection, *registry)
        run.results = run_rules(connection, rules, available, day, registry_fields=run.registry_fields)
        yield run


@contextmanager
def check_registry(engine: Engine, scope: Scope, rules: RuleSet, day: dt.date, year: int | None) -> Iterator[CheckRun]:
    """Export the registry's persons of ``scope`` as national rows and run every enabled rule on them."""
    from bangfu.checks.registry_source import load_registry  # imports the store only when a registry is checked

    with _check_connection() as connection:
        loaded = load_registry(connection, engine, scope, year)
        run = CheckRun(loaded, day, connection=connection)
        run.results = run_rules(connection, rules, loaded.fields, day, source="登记库")
        yield run


def _missing(rule: Rule, available: frozenset[str]) -> str:
    missing = sorted(rule.fields - available, key=list(ROW_FIELDS).index)
    return "、".join(field_label(name) for name in missing)


def run_rules(
    connection: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    available: frozenset[str],
    day: dt.date,
    source: str = "文件",
    registry_fields: frozenset[str] = frozenset(),
) -> list[RuleResult]:
    """Run each enabled rule whose fields are there; ``registry_fields``: those of ``registry_rows``, for
    the rules ``over: registry`` (not checked without it: there is no registry to compare with)."""

    def readable(rule: Rule) -> frozenset[str]:
        return registry_fields if rule.over == "registry" else available

    runnable = [rule for rule in rules.enabled() if rule.fields <= readable(rule)]
    needed = [rules.aggregates[name] for name in dict.fromkeys(n for r in runnable for n in r.aggregates)]
    if needed:
        connection.execute(f"CREATE TABLE aggregates AS {aggregates_sql(needed, day)}")
    connection.execute("CREATE TABLE hits (rule VARCHAR, row_no BIGINT)")
    results = []
    for rule in rules.enabled():
        if rule not in runnable:
            if rule.over == "registry" and not registry_fields:
                results.append(RuleResult(rule, None, "未核查：需与登记库比对（bangfu check 文件 --database）"))
            else:
                results.append(RuleResult(rule, None, f"未核查：{source}缺少列 {_missing(rule, readable(rule))}"))
            continue
        connection.execute(f"INSERT INTO hits SELECT ?, row_no FROM ({rule_sql(rule, day)})", [rule.id])
        # fetchall: DuckDB keeps a connection busy until its last result is read to the end
        [(count,)] = connection.execute("SELECT COUNT(*) FROM hits WHERE rule = ?", [rule.id]).fetchall()
        results.append(RuleResult(rule, int(count)))
    return results
