"""Which Spark properties Bangfu sets, locally and for a cluster (no JVM needed)."""

from __future__ import annotations

from pathlib import Path

from bangfu.batch.spark_failures import explain, java_executable
from bangfu.batch.spark_settings import SparkSettings
from bangfu.settings import Settings

VAR = Path("var")


def test_local_mode_listens_and_advertises_the_same_loopback_address() -> None:
    conf = SparkSettings.from_env({}, VAR).config()
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert SparkSettings.from_env({"BANGFU_SPARK_MASTER": "local[2]"}, VAR).local


def test_a_cluster_gets_spark_defaults_unless_told() -> None:
    settings = SparkSettings.from_env({"BANGFU_SPARK_MASTER": "spark://spark-master.example:7077"}, VAR)
    assert not settings.local
    conf = settings.config()
    # nothing that would override the cluster's spark-defaults.conf besides the time zone
    assert set(conf) == {"spark.sql.session.timeZone", "spark.ui.showConsoleProgress"}
    told = SparkSettings.from_env(
        {
            "BANGFU_SPARK_MASTER": "yarn",
            "BANGFU_SPARK_DRIVER_HOST": "10.1.2.3",
            "BANGFU_SPARK_BIND_ADDRESS": "0.0.0.0",
        },
        VAR,
    ).config()
    assert (told["spark.driver.host"], told["spark.driver.bindAddress"]) == ("10.1.2.3", "0.0.0.0")


def test_log_folder_follows_the_data_folder(tmp_path: Path) -> None:
    assert Settings.from_env({"BANGFU_DATA_DIR": str(tmp_path)}).spark.log_dir == tmp_path / "logs"
    assert SparkSettings.from_env({"BANGFU_SPARK_LOG_DIR": str(tmp_path / "x")}, VAR).log_dir == tmp_path / "x"


def test_java_is_looked_for_as_spark_does(tmp_path: Path) -> None:
    java, problem = java_executable({"PATH": str(tmp_path)})
    assert java is None and problem is not None and problem.startswith("找不到 Java")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "java").chmod(0o755)
    assert java_executable({"JAVA_HOME": str(tmp_path), "PATH": ""}) == (str(tmp_path / "bin" / "java"), None)


def test_known_java_errors_are_explained_in_chinese() -> None:
    cluster = SparkSettings(master="spark://nowhere:7077")
    reason = explain("SparkException: All masters are unresponsive! Giving up.", cluster)
    assert reason is not None and reason.startswith("连不上 Spark 主节点 spark://nowhere:7077（环境变量")
    local = SparkSettings()
    reason = explain("TaskResultLost (result lost from block manager)", local)
    assert reason is not None and "127.0.0.1" in reason
    assert explain("java.lang.OutOfMemoryError: Java heap space", local) is not None
    assert explain("something nobody has seen", local) is None
