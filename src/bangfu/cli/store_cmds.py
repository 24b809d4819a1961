"""The population between the registry and the policy engine: synthetic data into the database
(``bangfu synth --to-database``) and the stored population out of it for evaluation
(``bangfu policy population --from-database``)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from bangfu.cli import render
from bangfu.cli.database import Target, reported_failures, resolve
from bangfu.cli.report_cmds import refresh_after_write


def _fail(message: str) -> NoReturn:
    # app.py imports this module, so importing it at the top would be circular.
    from bangfu.cli.app import fail

    fail(message)


def _say(message: str) -> None:
    render.console().print(message, markup=False, highlight=False)


def existing_target(database: str | None) -> Target:
    """The database to use, refusing a SQLite file that does not exist (connecting would create it)."""
    from bangfu.store.db import sqlite_file

    target = resolve(database)
    path = sqlite_file(target.url)
    if path is not None and not path.exists():
        _fail(f"数据库文件 {path} 不存在（地址取自{target.source}）：请先运行 bangfu init --database {target.shown}")
    return target


@contextmanager
def _loading_failures(target: Target) -> Iterator[None]:
    from bangfu.store.bulk import RegistryNotEmptyError

    with reported_failures(target):
        try:
            yield
        except RegistryNotEmptyError as exc:
            held = exc.counts
            _fail(
                f"数据库 {target.shown} 的登记库已有 {held['persons']:,} 人、{held['organizations']:,} 个单位、"
                f"{held['households']:,} 户：为免合成数据混入已有登记，未写入任何数据。"
                "确要追加，请加 --append；否则请换一个空库（先运行 bangfu init）"
            )


def loadable_target(database: str | None, *, append: bool) -> Target:
    """The database to load into, checked before anything is generated (migrated; empty unless appending)."""
    from bangfu.store.bulk import check_loadable

    target = existing_target(database)
    with _loading_failures(target):
        check_loadable(target.url, append=append)
    return target


def load_synthetic(target: Target, data_dir: Path, *, seed: int, year: int, append: bool) -> None:
    """Load the synthetic population in ``data_dir`` into the registry and report the rows."""
    from bangfu.store.bulk import load_population

    with _loading_failures(target):
        result = load_population(target.url, data_dir, seed=seed, year=year, append=append)
    summary = "，".join(f"{table} {count:,} 行" for table, count in result.rows.items())
    _say(f"已写入数据库 {target.shown}：{summary}（{result.seconds:.1f} 秒）")
    _audit_load(target, result.rows, seed=seed, year=year, append=append)
    # Synthetic facts are those of the data year: count them as of its last day (or today, if earlier).
    refresh_after_write(target, min(dt.date.today(), dt.date(year, 12, 31)))


def _audit_load(target: Target, rows: dict[str, int], *, seed: int, year: int, append: bool) -> None:
    """The load on the audit chain. Its own transaction right after the load's (the bulk loader owns
    that one): a failure here is reported, the loaded data stays."""
    from bangfu.audit.log import record
    from bangfu.registry.imports.importer import operator
    from bangfu.store.db import make_engine

    with reported_failures(target):
        engine = make_engine(target.url)
        try:
            with engine.begin() as connection:
                record(
                    connection,
                    actor=f"cli:{operator()}",
                    action="synth.load",
                    target_type="registry",
                    after={"rows": rows, "seed": seed, "year": year, "append": append},
                )
        finally:
            engine.dispose()


@contextmanager
def exported_population(database: str | None, day: dt.date) -> Iterator[tuple[Path, float]]:
    """The stored population of ``day`` as Parquet in a temporary folder, and the export's seconds."""
    from bangfu.store.population_export import export_population

    target = existing_target(database)
    with tempfile.TemporaryDirectory(prefix="bangfu-population-") as folder:
        with reported_failures(target):
            result = export_population(target.url, Path(folder), day)
        yield Path(folder), result.seconds
