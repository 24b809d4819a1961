"""Apache Spark: the same queries, transpiled by SQLGlot, for national-scale batches.

Local mode by default; a cluster through ``BANGFU_SPARK_MASTER`` (``spark_settings``, docs/spark.md).
The JVM writes its output to a log file of the run, not to the terminal; a failure becomes a
``BackendError`` with a Chinese message naming that file (``spark_failures``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot

from bangfu.batch import spark_failures
from bangfu.batch.base import BackendError
from bangfu.batch.spark_settings import LOG_DIR_ENV, SparkSettings


def to_spark_sql(sql: str) -> str:
    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


def _failure_types() -> tuple[type[BaseException], ...]:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JError)


@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        # pyspark warns about the installed pandas on import of its test helpers; Bangfu uses no pandas
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        yield


class SparkBackend:
    name = "spark"

    def __init__(self, settings: SparkSettings, extra_config: Mapping[str, str] | None = None) -> None:
        """Start (or join) the process's Spark session; ``extra_config`` adds or replaces properties."""
        self.settings = settings
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        self.log = self.settings.log_dir / f"spark-{stamp}-{os.getpid()}.log"
        try:
            from pyspark import SparkConf, SparkContext
            from pyspark.java_gateway import launch_gateway
            from pyspark.sql import SparkSession
        except ImportError:  # the spark extra is optional
            install = "未安装 pyspark：请执行 pip install 'bangfu[spark]'"
            raise BackendError(f"{install}；{spark_failures.USE_DUCKDB}。") from None
        try:
            self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendError(
                f"无法创建 Spark 日志目录 {self.settings.log_dir}（{exc.strerror}）：请把环境变量 "
                f"{LOG_DIR_ENV} 设为可写的目录"
            ) from None
        java, problem = spark_failures.java_executable()
        if java is None:
            raise BackendError(f"{problem}；{spark_failures.USE_DUCKDB}。")
        if self.settings.local:
            # should Spark ever need a Python worker here, it is this interpreter, not whatever python3 is
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf = SparkConf().setAppName("bangfu").setMaster(self.settings.master)
        for key, value in {**self.settings.config(), **(extra_config or {})}.items():
            conf.set(key, value)
        try:
            with _quiet():
                if SparkContext._gateway is None:
                    self._launch_jvm(launch_gateway, conf)
                # a session already running in this process (a test module's) is joined as it is
                self.spark = SparkSession.getActiveSession() or SparkSession.builder.config(conf=conf).getOrCreate()
        except (*_failure_types(), OSError) as exc:  # type: ignore[misc]  # a tuple built at run time
            raise BackendError(spark_failures.start_failure(exc, self.log, self.settings)) from None

    def _launch_jvm(self, launch_gateway: Any, conf: Any) -> None:
        """Start the JVM with its output going to the run's log file instead of the terminal."""
        from pyspark import SparkContext

        with self.log.open("ab") as out:  # the JVM keeps its own copy of the descriptor
            gateway = launch_gateway(conf, popen_kwargs={"stdout": out, "stderr": out})
        SparkContext._ensure_initialized(gateway=gateway)

    @contextmanager
    def _job(self) -> Iterator[None]:
        try:
            with _quiet():
                yield
        except _failure_types() as exc:
            raise BackendError(spark_failures.job_failure(exc, self.log, self.settings)) from None

    def register_parquet(self, table: str, path: Path | str) -> None:
        with self._job():
            self.spark.read.parquet(str(path)).createOrReplaceTempView(table)

    def distinct(self, table: str, column: str) -> list[str]:
        with self._job():
            rows = self.spark.sql(f"SELECT DISTINCT `{column}` FROM `{table}` WHERE `{column}` IS NOT NULL").collect()
        return sorted(r[0] for r in rows)

    def register_rows(self, name: str, rows: list[dict[str, object]]) -> None:
        # through Arrow: the rows travel in the plan, so no executor needs a Python worker
        with self._job():
            self.spark.createDataFrame(pa.Table.from_pylist(rows)).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str, path: Path | None = None) -> None:
        with self._job():
            frame = self.spark.sql(to_spark_sql(sql))
            if path is None:
                frame.cache().createOrReplaceTempView(name)
                return
            frame.write.mode("overwrite").parquet(str(path))
        self.register_parquet(name, path)

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        with self._job():
            return [row.asDict() for row in self.spark.sql(to_spark_sql(sql)).collect()]

    def write_parquet(self, name: str, path: Path) -> None:
        with self._job():
            self.spark.table(name).write.mode("overwrite").parquet(str(path))

    def close(self) -> None:
        with self._job():
            self.spark.catalog.clearCache()

    def stop(self) -> None:
        """End the session (the JVM stays for the process's next one)."""
        self.spark.stop()
