"""Where a population's Parquet tables are: a local folder, or a distributed file system Spark reads.

``hdfs://namenode:8020/bangfu/pop`` or ``s3a://bucket/pop`` is read by the Spark back end through the
Hadoop file system of that scheme, configured in the cluster's Spark and Hadoop settings (docs/spark.md);
Bangfu neither checks nor lists such a folder, Spark reports what it cannot read. DuckDB reads local
folders only.
"""

from __future__ import annotations

from pathlib import Path

# Hadoop file systems a Spark installation commonly has (HDFS, S3, Google Cloud Storage, Azure).
REMOTE_SCHEMES = ("hdfs", "viewfs", "s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "oss", "cosn", "obs")

Location = Path | str  # a local folder, or a remote folder's URI


def remote_scheme(text: str) -> str | None:
    """The scheme of a remote folder's URI (``hdfs`` in ``hdfs://…``), None for a local path."""
    scheme, separator, _ = text.partition("://")
    return scheme.lower() if separator and scheme.lower() in REMOTE_SCHEMES else None


def is_remote(location: Location) -> bool:
    return isinstance(location, str) and remote_scheme(location) is not None


def table_location(location: Location, table: str) -> Location:
    """The Parquet file (or folder of parts) of ``table`` in ``location``."""
    if isinstance(location, str):
        return f"{location.rstrip('/')}/{table}.parquet"
    return location / f"{table}.parquet"


def remote_refused(location: str) -> str:
    """Why DuckDB will not read ``location``, and what to do instead."""
    return (
        f"DuckDB 后端只能读取本机目录，不能读取 {location}（{remote_scheme(location)}:// 远程存储）："
        "请加 --backend spark，由 Spark 集群读取（配置见 docs/spark.md），或先把数据复制到本机目录"
    )
