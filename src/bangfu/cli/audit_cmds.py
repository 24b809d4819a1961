"""Audit commands: ``bangfu audit verify [--against CHECKPOINT]``, ``audit checkpoint`` and ``audit keygen``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection

from bangfu.cli import render
from bangfu.cli.database import DatabaseOption, existing, opened, reported_failures
from bangfu.cli.errors import fail

KeyFileOption = Annotated[
    Path, typer.Option("--key-file", help="审计员保管的密钥文件（bangfu audit keygen 生成）", show_default=False)
]


def _say(message: str) -> None:
    render.console().print(message, markup=False, highlight=False)


def _complain(lines: list[str]) -> None:
    out = render.console(stderr=True)
    for index, line in enumerate(lines):
        out.print(
            line if index == 0 else f"  {line}", style="red" if index == 0 else None, markup=False, highlight=False
        )


@contextmanager
def _connected(database: str | None) -> Iterator[Connection]:
    """A connection to an initialized database at the newest schema, in one transaction."""
    from bangfu.store.migrate import require_head

    target = existing(database)
    with opened(target) as context, reported_failures(target), context.engine.begin() as connection:
        require_head(connection)
        yield connection


def _key(path: Path) -> bytes:
    from bangfu.audit.checkpoint import CheckpointError, read_key

    try:
        return read_key(path)
    except CheckpointError as exc:
        fail(f"--key-file：{exc}")


def _checkpoint(path: Path, key: bytes) -> object:
    from bangfu.audit.checkpoint import CheckpointError, parse

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"--against：无法读取检查点文件 {path}（{exc.strerror}）")
    except (UnicodeDecodeError, ValueError):
        fail(f"--against：{path} 不是 JSON：应为 bangfu audit checkpoint 输出的文件")
    try:
        return parse(data, key, f"检查点文件 {path}")
    except CheckpointError as exc:
        _complain([f"审计日志无法按检查点核对：{exc}"])
        raise typer.Exit(1) from None


def audit_verify(
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="另外按此前签发的检查点核对：日志不得比它短，也不得改写它之前的历史"),
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="签发检查点所用的密钥文件（与 --against 同用）")
    ] = None,
) -> None:
    """核对审计日志的哈希链：完好退出码为 0；发现修改、删除或（按检查点）截断则逐条列出，退出码为 1。"""
    from bangfu.audit.checkpoint import Checkpoint, check_against
    from bangfu.audit.log import verify

    if (against is None) != (key_file is None):
        fail("--against 与 --key-file 须同时给出：检查点要用签发它的密钥核对签名")
    checkpoint = _checkpoint(against, _key(key_file)) if against is not None and key_file is not None else None
    with _connected(database) as connection:
        result = verify(connection)
        problems = list(result.problems)
        if isinstance(checkpoint, Checkpoint):
            problems += check_against(connection, checkpoint)
    ok = not problems
    if as_json:
        payload = {"ok": ok, "entries": result.entries, "head_hash": result.head_hash, "problems": problems}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    elif ok:
        anchored = ""
        if isinstance(checkpoint, Checkpoint):
            anchored = f"；不短于检查点（{checkpoint.at}，{checkpoint.entries:,} 条）"
        _say(f"审计日志完好：已核对 {result.entries:,} 条记录，链头哈希 {result.head_hash}{anchored}")
    else:
        heading = f"审计日志已被改动：核对 {result.entries:,} 条记录，发现问题如下（链头哈希 {result.head_hash}）"
        _complain([heading, *problems])
    if not ok:
        raise typer.Exit(1)


def audit_checkpoint(
    key_file: KeyFileOption,
    out: Annotated[
        Path | None, typer.Option("--out", help="写入此文件（不给则打印到屏幕，可打印存档或寄给审计员）")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """签发审计日志检查点（条数、最后一条编号、链头哈希、时间，带签名），保存在数据库之外，供日后核对是否被截断。"""
    from bangfu.audit.checkpoint import take
    from bangfu.audit.log import verify

    key = _key(key_file)
    with _connected(database) as connection:
        result = verify(connection)
        if not result.ok:
            _complain(["审计日志已被改动，不签发检查点：请先用 bangfu audit verify 查明问题", *result.problems])
            raise typer.Exit(1)
        checkpoint = take(connection, key)
    text = json.dumps(checkpoint.as_json(), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"--out：无法写入 {out}（{exc.strerror}）")
    _say(f"已签发检查点：{checkpoint.entries:,} 条记录，最后一条为第 {checkpoint.last_id} 条，写入 {out}")


def audit_keygen(
    out: Annotated[Path, typer.Option("--out", help="新密钥文件（仅本人可读；不会覆盖已有文件）", show_default=False)],
) -> None:
    """生成签发审计检查点用的密钥文件，由审计员保管（不要放在平台服务器上）。"""
    from bangfu.audit.checkpoint import CheckpointError, write_key

    try:
        write_key(out)
    except CheckpointError as exc:
        fail(f"--out：{exc}")
    _say(f"已生成密钥文件 {out}：请妥善保管，核对检查点时需要它")


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="审计日志：核对哈希链，签发与核对检查点", no_args_is_help=True)
    audit_app.command("verify")(audit_verify)
    audit_app.command("checkpoint")(audit_checkpoint)
    audit_app.command("keygen")(audit_keygen)
    app.add_typer(audit_app, name="audit")
