"""Spark runs the same compiled query (transpiled by SQLGlot) and must match DuckDB row by row."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from population_support import (
    Decisions,
    boundary_population,
    corrected_population,
    differences,
    parquet_decisions,
    write_tables,
)

from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.policy.batch_run import evaluate_population
from bangfu.policy.model import Policy
from bangfu.synth.population import write_population

pytestmark = pytest.mark.spark

DATES = [dt.date(2024, 6, 30), dt.date(2021, 11, 30)]


def _java_problem() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'bangfu[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if java is None:
        return "no java executable (JAVA_HOME unset and none on PATH); Spark needs Java 17"
    try:
        done = subprocess.run([java, "-version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`java -version` failed: {exc}"
    if done.returncode != 0:
        return f"`java -version` exited with {done.returncode}: {done.stderr.decode(errors='replace')[:200]}"
    return None


PROBLEM = _java_problem()
if PROBLEM is not None:
    pytest.skip(PROBLEM, allow_module_level=True)


@pytest.fixture(scope="module")
def spark_backend() -> Iterator[Any]:
    from bangfu.batch.spark_backend import SparkBackend

    backend = SparkBackend(master="local[2]")
    try:
        yield backend
    finally:
        backend.close()
        backend.spark.stop()


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spark_population")
    write_population(folder, 1500, 150, seed=7)
    return folder


def run(policy: Policy, backend: Any, data: Path, day: dt.date, out: Path) -> dict[str, Decisions]:
    result = evaluate_population(policy, backend, data, day, out_dir=out)
    return {
        r.entity: parquet_decisions(out / f"{r.entity}_results.parquet", r.entity, r.query.benefit_ids)
        for r in result.runs
    }


@pytest.mark.parametrize("day", DATES, ids=[d.isoformat() for d in DATES])
def test_spark_matches_duckdb_row_by_row(
    policy: Policy, spark_backend: Any, population: Path, tmp_path: Path, day: dt.date
) -> None:
    duck = DuckDBBackend(threads=2)
    try:
        expected = run(policy, duck, population, day, tmp_path / "duckdb")
    finally:
        duck.close()
    actual = run(policy, spark_backend, population, day, tmp_path / "spark")
    for entity, count in (("person", 1500), ("organization", 150)):
        assert len(expected[entity]) == count
        assert len(actual[entity]) == count
        problems = differences(expected[entity], actual[entity], labels=("DuckDB", "Spark"))
        assert not problems, f"{entity} on {day}:\n" + "\n".join(problems)
    granted = sum(1 for row in actual["person"].values() for status, *_ in row.values() if status == "granted")
    assert granted > 0


def test_spark_matches_duckdb_on_boundary_dates(policy: Policy, spark_backend: Any, tmp_path: Path) -> None:
    """Leap-day anniversaries and spells ending on 1 January, where SQL dialects tend to differ."""
    day = dt.date(2025, 2, 28)
    write_tables(tmp_path / "data", boundary_population(day))
    duck = DuckDBBackend(threads=2)
    try:
        expected = run(policy, duck, tmp_path / "data", day, tmp_path / "duckdb")
    finally:
        duck.close()
    actual = run(policy, spark_backend, tmp_path / "data", day, tmp_path / "spark")
    for entity in ("person", "organization"):
        problems = differences(expected[entity], actual[entity], labels=("DuckDB", "Spark"))
        assert not problems, f"{entity} on {day}:\n" + "\n".join(problems)
    assert actual["organization"][1]["incubator_reward"][1] is True  # 2024-02-29 + 1 year = 2025-02-28
    assert actual["organization"][3]["incubator_reward"][1] is False


def test_spark_matches_duckdb_on_the_corrected_readings(policy: Policy, spark_backend: Any, tmp_path: Path) -> None:
    """Per-unit repeats (ledger units), the category hierarchy and priority ranks, on Spark as on DuckDB."""
    day = dt.date(2024, 7, 4)
    write_tables(tmp_path / "data", corrected_population())
    duck = DuckDBBackend(threads=2)
    try:
        expected = run(policy, duck, tmp_path / "data", day, tmp_path / "duckdb")
    finally:
        duck.close()
    actual = run(policy, spark_backend, tmp_path / "data", day, tmp_path / "spark")
    for entity in ("person", "organization"):
        problems = differences(expected[entity], actual[entity], labels=("DuckDB", "Spark"))
        assert not problems, f"{entity} on {day}:\n" + "\n".join(problems)
    assert actual["person"][2]["training_living_allowance"] == ("granted", True, 4 * 1500)
    assert actual["person"][3]["training_living_allowance"] == ("excluded", True, 0)
    assert actual["person"][5]["welfare_post_eligibility"] == ("granted", True, 0, 3)
