"""Spark runs the same compiled query (transpiled by SQLGlot) and must match DuckDB row by row.

One local session for the module, set up so that the data really travels as it does at scale: the
input read in several partitions, every join a shuffle into several partitions, and every task's
result handed to the driver through the block manager's network service (as results over 1 MiB
are), the path that failed when the driver advertised one address and listened on another.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from population_support import (
    Decisions,
    boundary_population,
    corrected_population,
    differences,
    parquet_decisions,
    set_parquet_decisions,
    set_single_case_decisions,
    write_tables,
)
from typer.testing import CliRunner

from bangfu.batch.base import BackendError
from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.batch.spark_backend import to_spark_sql
from bangfu.cli import app
from bangfu.policy.batch_run import evaluate_population
from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet
from bangfu.policy.population import build_query
from bangfu.synth.population import write_population
from document_copies import three_documents

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


SHUFFLE_PARTITIONS = 5
SHUFFLING = {
    "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
    # no broadcast joins: a person's employment, training and receipts meet them in a sort-merge
    # join, both sides shuffled; and no adaptive merging of the partitions back into one
    "spark.sql.autoBroadcastJoinThreshold": "-1",
    "spark.sql.adaptive.coalescePartitions.enabled": "false",
    # small input splits: a table of several row groups is read by several tasks
    "spark.sql.files.maxPartitionBytes": "16k",
    "spark.sql.files.openCostInBytes": "1k",
    # a task's result over this size goes to the driver through the block manager, as a large
    # population's do (the default threshold is 1 MiB)
    "spark.task.maxDirectResultSize": "1k",
}
ROW_GROUP_ROWS = 200


@pytest.fixture(scope="module")
def spark_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from bangfu.batch.spark_backend import SparkBackend
    from bangfu.batch.spark_settings import SparkSettings

    settings = SparkSettings(master="local[2]", log_dir=tmp_path_factory.mktemp("spark_logs"))
    backend = SparkBackend(settings, extra_config=SHUFFLING)
    try:
        yield backend
    finally:
        backend.close()
        backend.stop()


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spark_population")
    write_population(folder, 1500, 150, seed=7)
    for path in folder.glob("*.parquet"):  # several row groups, so that the input splits
        pq.write_table(pq.read_table(path), path, row_group_size=ROW_GROUP_ROWS)
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


def test_the_module_session_really_shuffles(policy: Policy, spark_backend: Any, population: Path) -> None:
    """Guards the row-by-row tests above: they must run through shuffles, several partitions wide."""
    conf = spark_backend.spark.sparkContext.getConf()
    assert conf.get("spark.driver.host") == conf.get("spark.driver.bindAddress") == "127.0.0.1"
    for table in ("persons", "employment", "training", "received"):
        spark_backend.register_parquet(table, population / f"{table}.parquet")
    assert spark_backend.spark.table("persons").rdd.getNumPartitions() > 1
    query = build_query(policy, "person", DATES[0], spark_backend.distinct("persons", "region"))
    if query.params_rows:
        spark_backend.register_rows("__params", query.params_rows)
    plan = spark_backend.spark.sql(to_spark_sql(query.sql))._jdf.queryExecution().executedPlan().toString()
    assert plan.count("SortMergeJoin") >= 3  # persons with employment, receipts and training
    assert re.search(rf"hashpartitioning\(person_id#\d+L?, {SHUFFLE_PARTITIONS}\)", plan), plan
    assert "BroadcastHashJoin" not in plan


def _corrupt_population(folder: Path, source: Path) -> Path:
    folder.mkdir()
    for path in source.glob("*.parquet"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "persons.parquet").write_bytes(b"person_id,region\n1,141123\n")  # a CSV under a Parquet name
    return folder


def test_a_failed_job_is_a_chinese_message_with_the_detail_in_the_log(
    policy: Policy, spark_backend: Any, population: Path, tmp_path: Path
) -> None:
    data = _corrupt_population(tmp_path / "data", population)
    with pytest.raises(BackendError) as caught:
        evaluate_population(policy, spark_backend, data, DATES[0])
    message = str(caught.value)
    assert message.startswith("Spark 运行失败：人群数据中有文件不是有效的 Parquet 文件或已损坏")
    assert str(spark_backend.log) in message
    assert "Exception" not in message and "at org." not in message
    log = spark_backend.log.read_text(encoding="utf-8")
    assert "bangfu: Spark failure" in log and "persons.parquet" in log  # the Java side's own words


def test_cli_reports_a_failed_spark_job_in_chinese(population: Path, spark_backend: Any, tmp_path: Path) -> None:
    data = _corrupt_population(tmp_path / "data", population)
    logs = tmp_path / "logs"
    result = CliRunner().invoke(
        app,
        ["policy", "population", "--data", str(data), "--date", "2024-06-30", "--backend", "spark"],
        env={"BANGFU_SPARK_LOG_DIR": str(logs)},
    )
    assert result.exit_code == 4, result.output
    assert "错误：Spark 运行失败：人群数据中有文件不是有效的 Parquet 文件或已损坏" in result.stderr
    assert "Traceback" not in result.output and "Exception" not in result.output
    (log,) = logs.glob("spark-*.log")
    assert str(log) in result.stderr.replace("\n", "")
    assert "persons.parquet" in log.read_text(encoding="utf-8")


SET_DATES = [dt.date(2024, 6, 30), dt.date(2026, 1, 1)]


@pytest.mark.parametrize("day", SET_DATES, ids=[d.isoformat() for d in SET_DATES])
def test_spark_over_three_documents_matches_evaluate_all(
    spark_backend: Any, population: Path, tmp_path: Path, day: dt.date
) -> None:
    """Province, city and county documents with cross-document exclusions, in force and after expiry."""
    policies = PolicySet.bundled("shanxi-2021")
    for folder in three_documents(tmp_path / "documents"):
        policies = policies.with_added(folder)
    out = tmp_path / "spark"
    result = evaluate_population(policies, spark_backend, population, day, out_dir=out)
    for r in result.runs:
        actual = set_parquet_decisions(out / f"{r.entity}_results.parquet", r.entity, r.query.benefit_ids)
        expected = set_single_case_decisions(policies, population, r.entity, day)
        problems = differences(expected, actual, labels=("evaluate_all", "Spark"))
        assert not problems, f"{r.entity} on {day}:\n" + "\n".join(problems)
    persons = next(r for r in result.runs if r.entity == "person")
    assert 0 < persons.covered("test-county") < persons.covered("test-city") < persons.covered("shanxi-2021")
    excluded = result.by_benefit()[("test-city", "transport_cross_province")]["excluded"]
    assert excluded > 0 if day.year == 2024 else excluded == 0  # the province's 2024 trips come first
