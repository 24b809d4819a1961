"""Registry and storage commands: ``bangfu init`` and ``bangfu id check``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from bangfu.cli import render
from bangfu.cli.database import URL_EXAMPLES, DatabaseOption, first_line, opened, resolve
from bangfu.cli.errors import fail
from bangfu.core import citizen_id
from bangfu.core.disclosure import masked_id_number, shown_birth_year


def _say(message: str) -> None:
    render.console().print(message, markup=False, highlight=False)


def init(database: DatabaseOption = None) -> None:
    """创建或升级数据库结构并写入行政区划；可重复运行，已登记的数据不受影响。"""
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

    from bangfu.store.migrate import head_revision, upgrade

    target = resolve(database)
    source, shown = target.source, target.shown
    try:
        with opened(target) as context, context.engine.begin() as connection:
            result = upgrade(connection)
    except ArgumentError as exc:  # includes an unknown dialect (NoSuchModuleError)
        fail(f"{source} 的数据库地址 {shown} 无法使用：{first_line(exc)}；应如 {URL_EXAMPLES}")
    except ImportError as exc:
        fail(f"缺少 {shown} 所需的数据库驱动 {exc.name}：PostgreSQL 请先安装 pip install 'bangfu[postgres]'")
    except OSError as exc:  # the SQLite file's folder cannot be created
        fail(f"无法为数据库 {shown} 创建目录 {exc.filename}（{exc.strerror}）：请换一个可写的路径")
    except OperationalError as exc:
        fail(
            f"无法连接或写入数据库 {shown}：{first_line(exc)}。请检查 {source} 中的地址、用户与口令，"
            "数据库是否已创建、服务是否已启动，SQLite 文件所在目录是否可写"
        )
    except CommandError as exc:
        # Typically a database migrated by a newer Bangfu: its revision is unknown to this one.
        fail(
            f"数据库 {shown} 的结构版本无法迁移：{exc}。"
            f"请确认 Bangfu 不比上次迁移该库的版本旧（本版最新结构版本为 {head_revision()}）"
        )
    except SQLAlchemyError as exc:
        fail(f"迁移数据库 {shown} 失败：{first_line(exc)}")
    seeded = result.regions
    _say(f"数据库已就绪：{shown}")
    _say(f"结构版本：{result.revision}（最新）")
    _say(f"行政区划：{seeded.total:,} 个（本次新增 {seeded.inserted:,} 个，更新 {seeded.updated:,} 个）")


def _id_numbers(arguments: list[str]) -> Iterator[str]:
    for argument in arguments:
        if argument == "-":
            yield from (line.strip() for line in sys.stdin if line.strip())
        else:
            yield argument


def id_report(raw: str) -> dict[str, Any]:
    """One line of ``bangfu id check``; the number is shown as the disclosure policy shows it everywhere."""
    checked = citizen_id.check(raw)
    return {
        "id": masked_id_number(checked.id),
        "valid": checked.valid,
        "reason": checked.reason,
        "region": checked.region,
        "region_name": checked.region_name,
        "historic": checked.historic,
        # The year only: with the region and the masked ends, the date would give the number back.
        "birth_year": shown_birth_year(checked.birth_date) if checked.birth_date else None,
        "sex": checked.sex,
    }


def id_check(
    id_numbers: Annotated[list[str], typer.Argument(help="身份证号（18 位或 15 位旧号）；- 表示从标准输入逐行读取")],
) -> None:
    """校验身份证号：每个号码输出一行 JSON（号码已脱敏）；无效号码也输出，退出码为 0。"""
    for raw in _id_numbers(id_numbers):
        sys.stdout.write(json.dumps(id_report(raw), ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    id_app = typer.Typer(help="身份证号：校验与解析（GB 11643）", no_args_is_help=True)
    id_app.command("check")(id_check)
    app.add_typer(id_app, name="id")
