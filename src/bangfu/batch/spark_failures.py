"""Spark's failures told in Chinese: what failed and what to do; the Java detail stays in the run's log."""

from __future__ import annotations

import os
import shutil
import traceback
from collections.abc import Mapping
from pathlib import Path

from bangfu.batch.spark_settings import BIND_ADDRESS_ENV, DRIVER_HOST_ENV, MASTER_ENV, SparkSettings

JAVA_NEEDED = "Spark 后端需要 Java 17 或更新版本"
INSTALL_JAVA = "请安装（如 apt install openjdk-17-jre-headless），或把环境变量 JAVA_HOME 设为其安装目录"
USE_DUCKDB = "不需要 Spark 时可去掉 --backend spark，改用默认的 DuckDB 后端"

# (text in the Java error or the JVM's output, what it means for the user). First match wins, so
# the specific come before the general.
HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("UnsupportedClassVersionError",), f"Java 版本过旧，{JAVA_NEEDED}"),
    (
        ("Could not parse Master URL", "Master must either be yarn or start with"),
        f"无法识别 Spark 主节点地址 {{master}}（环境变量 {MASTER_ENV}）：本机运行用 local[*]，"
        "集群用 spark://主机:7077、yarn 或 k8s://https://主机:端口",
    ),
    (
        ("All masters are unresponsive", "Failed to connect to master"),
        f"连不上 Spark 主节点 {{master}}（环境变量 {MASTER_ENV}）：请检查地址、端口，以及本机与集群之间的网络",
    ),
    (
        ("could not bind", "Cannot assign requested address", "BindException"),
        f"Spark 驱动程序无法在地址 {{bind}} 上监听：环境变量 {BIND_ADDRESS_ENV} 应为本机的一个地址",
    ),
    (
        ("OutOfMemoryError", "Java heap space", "GC overhead limit exceeded"),
        "内存不足：请在 Spark 的 spark-defaults.conf 中调大 spark.driver.memory（本机运行）"
        "或 spark.executor.memory（集群）",
    ),
    (("No space left on device",), "磁盘空间不足：Spark 的临时目录（spark.local.dir，默认 /tmp）所在磁盘已满"),
    (
        ("is not a Parquet file", "CANNOT_READ_FILE_FOOTER", "FAILED_READ_FILE", "Could not read footer"),
        "人群数据中有文件不是有效的 Parquet 文件或已损坏：请用 bangfu synth 或 bangfu policy population "
        "--from-database 重新生成",
    ),
    (
        ("PATH_NOT_FOUND", "FileNotFoundException", "does not exist"),
        "Spark 找不到人群数据文件：在集群上运行时，--data 目录须在驱动程序和每个执行器上以同一路径可读（共享文件系统）",
    ),
    (
        ("Failed to connect to", "Connection refused", "FetchFailed", "result lost from block manager"),
        f"Spark 进程之间无法相互连接：驱动程序公布的地址（环境变量 {DRIVER_HOST_ENV}，当前 {{host}}）"
        "须是执行器能连到的本机地址",
    ),
)


def java_executable(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The java that Spark's launch script will run, or a message saying why there is none."""
    env = os.environ if environ is None else environ
    # the same choice as Spark's bin/spark-class: JAVA_HOME when it is set, else java on the PATH
    java_home = env.get("JAVA_HOME")
    if java_home:
        java = Path(java_home) / "bin" / "java"
        if not os.access(java, os.X_OK):
            return None, f"环境变量 JAVA_HOME={java_home} 下没有可执行的 bin/java。{JAVA_NEEDED}，{INSTALL_JAVA}"
        return str(java), None
    found = shutil.which("java", path=env.get("PATH"))
    if found is None:
        return None, f"找不到 Java（未设 JAVA_HOME，PATH 中也没有 java）。{JAVA_NEEDED}，{INSTALL_JAVA}"
    return found, None


def explain(detail: str, settings: SparkSettings) -> str | None:
    """The user's reading of a Java error text, when it is one Bangfu knows."""
    config = settings.config()
    values = {
        "master": settings.master,
        "bind": config.get("spark.driver.bindAddress", "（默认）"),
        "host": config.get("spark.driver.host", "（主机名）"),
    }
    for needles, reason in HINTS:
        if any(needle in detail for needle in needles):
            return reason.format(**values)
    return None


def record(log: Path, error: BaseException) -> None:
    """Append the Python and Java traceback to the run's log, where the message sends the reader."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write("\n=== bangfu: Spark failure ===\n")
        out.write("".join(traceback.format_exception(error)))


def log_tail(log: Path, size: int = 20_000) -> str:
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, log.stat().st_size - size))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def start_failure(error: BaseException, log: Path, settings: SparkSettings) -> str:
    record(log, error)
    reason = explain(str(error) + "\n" + log_tail(log), settings) or "Spark 未能启动"
    return f"Spark 启动失败：{reason}。详细报错已写入 {log}；{USE_DUCKDB}。"


def job_failure(error: BaseException, log: Path, settings: SparkSettings) -> str:
    record(log, error)
    reason = explain(str(error), settings) or "Spark 作业出错"
    return f"Spark 运行失败：{reason}。详细报错已写入 {log}；{USE_DUCKDB}。"
