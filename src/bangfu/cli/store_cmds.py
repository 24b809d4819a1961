"""The population between the registry and the policy engine: synthetic data into the database
(``bangfu synth --to-database``) and the stored population out of it for evaluation
(``bangfu policy population --from-database``)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bangfu.cli import render
from bangfu.cli.database import Target, reported_failures
from bangfu.cli.errors import fail
from bangfu.cli.report_cmds import refresh_after_write

if TYPE_CHECKING:
    from bangfu.context import Context


def _say(message: str) -> None:
    render.console().print(message, markup=False, highlight=False)


@contextmanager
def _loading_failures(target: Target) -> Iterator[None]:
    from bangfu.store.counts import RegistryNotEmptyError

    with reported_failures(target):
        try:
            yield
        except RegistryNotEmptyError as exc:
            held = exc.counts
            fail(
                f"数据库 {target.shown} 的登记库已有 {held['persons']:,} 人、{held['organizations']:,} 个单位、"
                f"{held['households']:,} 户：为免合成数据混入已有登记，未写入任何数据。"
                "确要追加，请加 --append；否则请换一个空库（先运行 bangfu init）"
            )


def check_loadable(target: Target, context: Context, *, append: bool) -> None:
    """Refuse, before anything is generated, a database not migrated, or not empty unless appending."""
    from bangfu.synth.registry_load.load import check_loadable as refuse_unless_loadable

    with _loading_failures(target), context.engine.connect() as connection:
        refuse_unless_loadable(connection, append=append)


def load_synthetic(target: Target, context: Context, data_dir: Path, *, seed: int, year: int, append: bool) -> None:
    """Load the synthetic population in ``data_dir`` into the registry and report the rows."""
    from bangfu.synth.registry_load.load import load_population

    with _loading_failures(target), context.engine.connect() as connection:
        result = load_population(connection, data_dir, seed=seed, year=year, append=append)
    summary = "，".join(f"{table} {count:,} 行" for table, count in result.rows.items())
    _say(f"已写入数据库 {target.shown}：{summary}（{result.seconds:.1f} 秒）")
    _audit_load(target, context, result.rows, seed=seed, year=year, append=append)
    # Synthetic facts are those of the data year: count them as of its last day (or today, if earlier).
    refresh_after_write(target, context, min(dt.date.today(), dt.date(year, 12, 31)))


def _audit_load(target: Target, context: Context, rows: dict[str, int], *, seed: int, year: int, append: bool) -> None:
    """The load on the audit chain. Its own transaction right after the load's (the bulk loader owns
    that one): a failure here is reported, the loaded data stays."""
    from bangfu.audit.log import record
    from bangfu.registry.imports.importer import operator

    with reported_failures(target), context.engine.begin() as connection:
        record(
            connection,
            actor=f"cli:{operator()}",
            action="synth.load",
            target_type="registry",
            after={"rows": rows, "seed": seed, "year": year, "append": append},
        )


@contextmanager
def exported_population(target: Target, context: Context, day: dt.date) -> Iterator[tuple[Path, float]]:
    """The stored population of ``day`` as Parquet in a temporary folder, and the export's seconds."""
    from bangfu.registry.population_export import export_population

    with tempfile.TemporaryDirectory(prefix="bangfu-population-") as folder:
        with reported_failures(target), context.engine.connect() as connection:
            result = export_population(connection, Path(folder), day)
        yield Path(folder), result.seconds
