"""`--data` may name a remote folder (hdfs://, s3a://) for Spark; DuckDB refuses one in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from bangfu.batch.base import BackendError
from bangfu.batch.duckdb_backend import DuckDBBackend
from bangfu.batch.locations import is_remote, remote_scheme, table_location
from bangfu.policy.batch_run import PopulationDataError, table_files
from bangfu.policy.facts import ENTITIES


@pytest.mark.parametrize(
    ("text", "scheme"),
    [
        ("hdfs://namenode:8020/bangfu/pop", "hdfs"),
        ("S3A://bucket/pop", "s3a"),
        ("gs://bucket/pop", "gs"),
        ("/shared/bangfu/pop", None),
        ("var/pop", None),
        ("C:/pop", None),
        ("ftp://host/pop", None),  # not a Hadoop file system Spark is known to have
    ],
)
def test_remote_schemes(text: str, scheme: str | None) -> None:
    assert remote_scheme(text) == scheme
    assert is_remote(text) is (scheme is not None)


def test_a_remote_folder_is_named_not_checked() -> None:
    files = table_files(ENTITIES["person"], "s3a://bucket/pop/")
    assert files["persons"] == "s3a://bucket/pop/persons.parquet"
    assert files["employment"] == "s3a://bucket/pop/employment.parquet"
    assert table_location(Path("/srv/pop"), "persons") == Path("/srv/pop/persons.parquet")


def test_a_local_folder_is_still_checked(tmp_path: Path) -> None:
    with pytest.raises(PopulationDataError, match=r"persons\.parquet"):
        table_files(ENTITIES["person"], tmp_path)


def test_duckdb_refuses_a_remote_folder() -> None:
    backend = DuckDBBackend(threads=1)
    try:
        with pytest.raises(BackendError) as caught:
            backend.register_parquet("persons", "hdfs://namenode:8020/pop/persons.parquet")
    finally:
        backend.close()
    message = str(caught.value)
    assert message.startswith("DuckDB 后端只能读取本机目录")
    assert "--backend spark" in message and "docs/spark.md" in message
