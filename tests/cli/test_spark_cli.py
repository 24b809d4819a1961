"""``--backend spark`` where Spark cannot start: a Chinese message and exit code 4, never a Java traceback.

A failed Spark *job* is tested with the running session in tests/policy/test_spark.py.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bangfu.cli import app
from bangfu.synth.population import write_population

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="pyspark is not installed")

# What a Java 11 says when asked to run Spark 4's launcher (compiled for Java 17, class file 61).
OLD_JAVA = """#!/bin/sh
echo 'Error: LinkageError occurred while loading main class org.apache.spark.launcher.Main' >&2
echo '	java.lang.UnsupportedClassVersionError: org/apache/spark/launcher/Main has been compiled by a more recent \
version of the Java Runtime (class file version 61.0), this version of the Java Runtime only recognizes class file \
versions up to 55.0' >&2
exit 1
"""
BROKEN_JAVA = """#!/bin/sh
echo 'Error occurred during initialization of VM' >&2
echo 'Could not reserve enough space for object heap' >&2
exit 1
"""


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spark_cli_population")
    write_population(folder, 50, 5, seed=3)
    return folder


def population_args(data: Path) -> list[str]:
    return ["policy", "population", "--data", str(data), "--date", "2024-06-30", "--backend", "spark"]


def test_no_java_is_a_chinese_message(population: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = CliRunner().invoke(app, population_args(population), env={"JAVA_HOME": None, "PATH": str(empty)})
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("错误：找不到 Java（未设 JAVA_HOME，PATH 中也没有 java）。")
    assert "Java 17" in result.stderr and "--backend spark" in result.stderr
    assert "Traceback" not in result.output


def test_java_home_without_java_is_named(population: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, population_args(population), env={"JAVA_HOME": str(tmp_path)})
    assert result.exit_code == 4, result.output
    assert f"环境变量 JAVA_HOME={tmp_path} 下没有可执行的 bin/java" in result.stderr.replace("\n", "")


@pytest.mark.parametrize(
    ("script", "reason"),
    [(OLD_JAVA, "Java 版本过旧，Spark 后端需要 Java 17 或更新版本"), (BROKEN_JAVA, "Spark 未能启动")],
    ids=["old-java", "jvm-fails"],
)
def test_a_jvm_that_will_not_start_is_a_chinese_message(
    population: Path, tmp_path: Path, script: str, reason: str
) -> None:
    # a fresh interpreter: this one may already hold a running JVM from the Spark tests
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    java = java_home / "bin" / "java"
    java.write_text(script)
    java.chmod(0o755)
    logs = tmp_path / "logs"
    env = {**os.environ, "JAVA_HOME": str(java_home), "BANGFU_SPARK_LOG_DIR": str(logs)}
    done = subprocess.run(
        [sys.executable, "-m", "bangfu", *population_args(population)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    (log,) = logs.glob("spark-*.log")
    advice = "不需要 Spark 时可去掉 --backend spark，改用默认的 DuckDB 后端。"
    assert done.stderr.replace("\n", "") == f"错误：Spark 启动失败：{reason}。详细报错已写入 {log}；{advice}"
    assert "Traceback" not in done.stdout + done.stderr
    detail = log.read_text(encoding="utf-8")
    assert script.splitlines()[1].split("'")[1] in detail  # what the JVM itself said is kept
    assert "JAVA_GATEWAY_EXITED" in detail


def test_an_unwritable_log_folder_is_named(population: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(app, population_args(population), env={"BANGFU_SPARK_LOG_DIR": str(blocker / "logs")})
    assert result.exit_code == 4, result.output
    assert f"无法创建 Spark 日志目录 {blocker / 'logs'}" in result.stderr.replace("\n", "")
    assert "BANGFU_SPARK_LOG_DIR" in result.stderr
