"""Finding 8: a chain cut short verifies on its own; a signed checkpoint kept outside the database catches it.

Both back ends, through the CLI (``bangfu audit keygen|checkpoint|verify --against``). The cuts are made
the way an owner of the tables could: the guarding triggers switched off first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Connection
from test_audit_log import unguard, unguard_head
from typer.testing import CliRunner, Result

from bangfu.audit.log import GENESIS_HASH, record
from bangfu.cli import app
from bangfu.store.db import make_engine


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line(text: str) -> str:
    return "".join(text.split())


def append(url: str, count: int) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for n in range(count):
                record(connection, actor="tests", action="test.entry", target_id=n)
    finally:
        engine.dispose()


def tamper(url: str, statements: list[str], *, log: bool = True) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if log:
                unguard(connection)
            unguard_head(connection)
            _unguard_truncate(connection)
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _unguard_truncate(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate")


@pytest.fixture
def signed(fresh_database: str, tmp_path: Path) -> tuple[str, Path, Path]:
    """A log of 6 entries, a key and a checkpoint of it."""
    key, checkpoint = tmp_path / "audit.key", tmp_path / "checkpoint.json"
    assert invoke("audit", "keygen", "--out", str(key)).exit_code == 0
    append(fresh_database, 6)
    made = invoke("audit", "checkpoint", "--key-file", str(key), "--out", str(checkpoint), "--database", fresh_database)
    assert made.exit_code == 0, made.output
    return fresh_database, key, checkpoint


def verify_against(url: str, key: Path, checkpoint: Path) -> Result:
    return invoke("audit", "verify", "--against", str(checkpoint), "--key-file", str(key), "--database", url)


def test_the_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    assert invoke("audit", "keygen", "--out", str(key)).exit_code == 0
    assert key.stat().st_mode & 0o777 == 0o600 and len(bytes.fromhex(key.read_text().strip())) == 32
    again = invoke("audit", "keygen", "--out", str(key))
    assert again.exit_code == 2 and "已存在" in again.stderr


def test_an_untouched_log_with_later_entries_passes(signed: tuple[str, Path, Path]) -> None:
    url, key, checkpoint = signed
    data = json.loads(checkpoint.read_text())
    assert (data["entries"], data["last_id"], len(data["head_hash"]), len(data["signature"])) == (6, 6, 64, 64)
    append(url, 3)
    result = verify_against(url, key, checkpoint)
    assert result.exit_code == 0, result.output
    assert "审计日志完好：已核对9条记录" in one_line(result.stdout) and "不短于检查点" in result.stdout


def test_a_truncated_log_with_a_reset_head_fails(signed: tuple[str, Path, Path]) -> None:
    url, key, checkpoint = signed
    emptied = "TRUNCATE audit_log" if url.startswith("postgresql") else "DELETE FROM audit_log"
    tamper(url, [emptied, f"UPDATE audit_head SET last_id = 0, last_hash = '{GENESIS_HASH}'"])
    assert invoke("audit", "verify", "--database", url).exit_code == 0  # the finding: alone it looks whole
    result = verify_against(url, key, checkpoint)
    assert result.exit_code == 1
    assert "审计链比检查点短" in one_line(result.stderr) and "第6条" in one_line(result.stderr)


def test_a_deleted_tail_with_the_head_moved_back_fails(signed: tuple[str, Path, Path]) -> None:
    url, key, checkpoint = signed
    engine = make_engine(url)
    with engine.connect() as connection:
        fourth = connection.exec_driver_sql("SELECT entry_hash FROM audit_log WHERE id = 4").scalar_one()
    engine.dispose()
    tamper(url, ["DELETE FROM audit_log WHERE id > 4", f"UPDATE audit_head SET last_id = 4, last_hash = '{fourth}'"])
    assert invoke("audit", "verify", "--database", url).exit_code == 0
    result = verify_against(url, key, checkpoint)
    assert result.exit_code == 1
    assert "审计链比检查点短" in one_line(result.stderr) and "第6条）已不在日志中" in one_line(result.stderr)


def test_a_rewritten_history_of_the_same_length_fails(signed: tuple[str, Path, Path]) -> None:
    url, key, checkpoint = signed
    # Everything deleted and six other entries appended: same length, another history.
    tamper(url, ["DELETE FROM audit_log", f"UPDATE audit_head SET last_id = 0, last_hash = '{GENESIS_HASH}'"])
    append(url, 6)
    assert invoke("audit", "verify", "--database", url).exit_code == 0
    result = verify_against(url, key, checkpoint)
    assert result.exit_code == 1 and "此前的历史被改写" in result.stderr


@pytest.mark.parametrize(("field", "value"), [("entries", 2), ("last_id", 2), ("head_hash", "0" * 64)])
def test_an_edited_checkpoint_fails(signed: tuple[str, Path, Path], field: str, value: object) -> None:
    url, key, checkpoint = signed
    data = json.loads(checkpoint.read_text())
    checkpoint.write_text(json.dumps({**data, field: value}))
    result = verify_against(url, key, checkpoint)
    assert result.exit_code == 1 and "签名不符" in result.stderr


def test_another_key_or_a_bad_file_is_refused(signed: tuple[str, Path, Path], tmp_path: Path) -> None:
    url, key, checkpoint = signed
    other = tmp_path / "other.key"
    assert invoke("audit", "keygen", "--out", str(other)).exit_code == 0
    wrong = verify_against(url, other, checkpoint)
    assert wrong.exit_code == 1 and "不是用这个密钥签的" in wrong.stderr
    missing = verify_against(url, tmp_path / "none.key", checkpoint)
    assert missing.exit_code == 2 and "无法读取密钥文件" in missing.stderr
    (tmp_path / "bad.json").write_text("{")
    assert verify_against(url, key, tmp_path / "bad.json").exit_code == 2
    alone = invoke("audit", "verify", "--against", str(checkpoint), "--database", url)
    assert alone.exit_code == 2 and "须同时给出" in alone.stderr
