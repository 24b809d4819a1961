"""Which database a command uses (``--database``, the environment, or the default), the command's
context on it, and its failures as messages.

Every registry command names the database the same way: the URL with the password hidden, and where
the URL came from, so that a message says what to fix and where.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from bangfu.cli.errors import fail
from bangfu.settings import DATABASE_URL_ENV, Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from bangfu.context import Context
    from bangfu.policy.policy_set import PolicySet

URL_EXAMPLES = "sqlite:///var/bangfu.db 或 postgresql+psycopg://用户@主机:5432/库名"

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help=f"数据库地址（SQLAlchemy URL）；默认取环境变量 {DATABASE_URL_ENV}，未设置时为 var/bangfu.db",
    ),
]


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class Target:
    """A database URL, where it came from (for messages) and how it may be shown (password hidden), and
    the settings of the command with that URL."""

    url: str
    source: str
    shown: str
    settings: Settings


def resolve(database: str | None) -> Target:
    """The database of ``--database``, else ``BANGFU_DATABASE_URL``, else the default SQLite file."""
    from sqlalchemy.exc import ArgumentError

    from bangfu.store.db import display_url

    try:
        settings = Settings.from_env()
    except SettingsError as exc:  # e.g. BANGFU_TRUSTED_PROXIES: `bangfu serve` would start workers that fail
        fail(str(exc))
    url = database or settings.database_url
    if database:
        source = "--database"
    elif os.environ.get(DATABASE_URL_ENV):
        source = f"环境变量 {DATABASE_URL_ENV}"
    else:
        source = f"默认数据库地址（可用 --database 或环境变量 {DATABASE_URL_ENV} 指定）"
    try:
        shown = display_url(url)
    except ArgumentError:
        fail(f"{source} 的值不是有效的数据库地址，应如 {URL_EXAMPLES}")
    return Target(url=url, source=source, shown=shown, settings=dataclasses.replace(settings, database_url=url))


def existing(database: str | None) -> Target:
    """Like ``resolve``, refusing a SQLite file that does not exist (connecting would create it empty)."""
    from bangfu.store.db import sqlite_file

    target = resolve(database)
    path = sqlite_file(target.url)
    if path is not None and not path.exists():
        fail(f"数据库文件 {path} 不存在（地址取自{target.source}）：请先运行 bangfu init --database {target.shown}")
    return target


def schema_message(target: Target, revision: str | None, head: str | None) -> str:
    if revision is None:
        return f"数据库 {target.shown} 尚未初始化：请先运行 bangfu init --database {target.shown}"
    return (
        f"数据库 {target.shown} 的结构版本为 {revision}，本版 Bangfu 需要 {head}：请先运行 "
        f"bangfu init --database {target.shown} 升级（若该库已由更新版本的 Bangfu 迁移过，请改用那个版本）"
    )


@contextmanager
def reported_failures(target: Target) -> Iterator[None]:
    """Database failures inside the block become messages naming the database and what to check (exit 2)."""
    from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

    from bangfu.store.migrate import SchemaNotCurrentError

    try:
        yield
    except SchemaNotCurrentError as exc:
        fail(schema_message(target, exc.revision, exc.head))
    except ArgumentError as exc:  # includes an unknown dialect (NoSuchModuleError)
        fail(f"{target.source} 的数据库地址 {target.shown} 无法使用：{first_line(exc)}；应如 {URL_EXAMPLES}")
    except ImportError as exc:
        fail(f"缺少 {target.shown} 所需的数据库驱动 {exc.name}：PostgreSQL 请先安装 pip install 'bangfu[postgres]'")
    except OperationalError as exc:
        fail(
            f"无法连接或写入数据库 {target.shown}：{first_line(exc)}。请检查{target.source}中的地址、用户与口令，"
            "数据库是否已创建、服务是否已启动"
        )
    except SQLAlchemyError as exc:
        fail(f"数据库 {target.shown} 出错：{first_line(exc)}")


@contextmanager
def opened(target: Target, *, policies: PolicySet | None = None) -> Iterator[Context]:
    """The command's context on ``target`` (engine, sessions, policy set), closed when the command ends."""
    from bangfu.context import Context

    context = Context(target.settings, policies=policies)
    try:
        yield context
    finally:
        context.close()


@contextmanager
def current_connection(target: Target, context: Context) -> Iterator[Connection]:
    """A connection to ``target``, refused (exit 2, with what to run) unless ``bangfu init`` brought the
    database to this version; failures become messages."""
    from bangfu.store.migrate import require_head

    with reported_failures(target), context.engine.connect() as connection:
        require_head(connection)
        # require_head read the schema version: end that transaction, so the caller begins its own.
        connection.rollback()
        yield connection


def require_current(target: Target, context: Context) -> None:
    """Refuse (exit 2, with what to run) a database that ``bangfu init`` has not brought to this version."""
    with current_connection(target, context):
        pass
