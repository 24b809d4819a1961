"""Alembic environment. Run through ``bangfu.store.migrate`` (``bangfu init``), which hands over an
open connection; ``sqlalchemy.url`` in the config is the fallback for running Alembic by hand."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bangfu.store.db import make_engine
from bangfu.store.tables import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead. Harmless elsewhere.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Alembic 配置缺少 sqlalchemy.url：请用 bangfu init --database URL 迁移数据库")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()


def main_offline() -> None:
    # `alembic upgrade head --sql`: the SQL script for a DBA to review and run by hand.
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    main_offline()
else:
    main()
