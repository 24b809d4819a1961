"""Apache Spark: the same queries, transpiled by SQLGlot, for national-scale batches."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlglot


def to_spark_sql(sql: str) -> str:
    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


class SparkBackend:
    name = "spark"

    def __init__(self, master: str = "local[2]") -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # the spark extra is optional
            raise RuntimeError("未安装 pyspark：请执行 pip install 'bangfu[spark]'") from exc
        os.environ.setdefault("PYSPARK_PYTHON", "python3")
        self.spark = (
            SparkSession.builder.master(master)
            .appName("bangfu")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate()
        )
        self.spark.sparkContext.setLogLevel("ERROR")

    def register_parquet(self, table: str, path: Path) -> None:
        self.spark.read.parquet(str(path)).createOrReplaceTempView(table)

    def distinct(self, table: str, column: str) -> list[str]:
        rows = self.spark.sql(f"SELECT DISTINCT `{column}` FROM `{table}` WHERE `{column}` IS NOT NULL").collect()
        return sorted(r[0] for r in rows)

    def register_rows(self, name: str, rows: list[dict[str, object]]) -> None:
        from pyspark.sql import Row

        self.spark.createDataFrame([Row(**r) for r in rows]).createOrReplaceTempView(name)

    def materialize(self, name: str, sql: str, path: Path | None = None) -> None:
        frame = self.spark.sql(to_spark_sql(sql))
        if path is None:
            frame.cache().createOrReplaceTempView(name)
            return
        frame.write.mode("overwrite").parquet(str(path))
        self.register_parquet(name, path)

    def fetch(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(to_spark_sql(sql)).collect()]

    def write_parquet(self, name: str, path: Path) -> None:
        self.spark.table(name).write.mode("overwrite").parquet(str(path))

    def close(self) -> None:
        self.spark.catalog.clearCache()
