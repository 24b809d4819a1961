"""A damaged national CSV imported column-wise and row by row leaves the same registry and the same
rejects file, on both back ends (the reading is compared row for row in tests/registry)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from import_db_support import rejects_rows
from national_support import damaged_table, write_national_csv
from sqlalchemy import Engine, select

from bangfu.registry.imports import row_feed
from bangfu.registry.imports.importer import import_file
from bangfu.registry.imports.national_columns import ColumnwiseNational
from bangfu.store.tables import Base, Household, Person, PersonCategory, PersonYearFacts

TODAY = dt.date(2026, 12, 1)
_NOT_COMPARED = {"id", "household_id", "person_id", "created_at", "updated_at"}


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in {"regions", "audit_log", "audit_head"}:
                connection.execute(table.delete())


def _registry(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the import wrote, without the ids it drew, keyed by what identifies it."""

    def columns(model: Any) -> list[Any]:
        return [column for column in model.__table__.columns if column.name not in _NOT_COMPARED]

    with engine.connect() as connection:
        return {
            "persons": sorted(
                connection.execute(
                    select(*columns(Person), Household.household_number).outerjoin(
                        Household, Household.id == Person.household_id
                    )
                ).all()
            ),
            "households": sorted(connection.execute(select(*columns(Household))).all()),
            "categories": sorted(
                connection.execute(
                    select(Person.id_number, *columns(PersonCategory)).join(
                        Person, Person.id == PersonCategory.person_id
                    )
                ).all()
            ),
            "year_facts": sorted(
                connection.execute(
                    select(Person.id_number, *columns(PersonYearFacts)).join(
                        Person, Person.id == PersonYearFacts.person_id
                    )
                ).all()
            ),
        }


def test_a_damaged_download_imports_the_same_both_ways(
    registry: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_national_csv(tmp_path / "人口信息.csv", damaged_table(random.Random(9), 100), "utf-8")
    assert path.stat().st_size >= row_feed.COLUMNWISE_MIN_BYTES  # read column-wise unless told otherwise
    opened: list[bool] = []
    real_open = ColumnwiseNational.open

    def spied(source: Any) -> ColumnwiseNational | None:
        reader = real_open(source)
        opened.append(reader is not None)
        return reader

    monkeypatch.setattr(ColumnwiseNational, "open", spied)
    outcomes = []
    for columnwise in (True, False):
        if not columnwise:
            monkeypatch.setattr(row_feed, "COLUMNWISE_MIN_BYTES", 2**62)
        _empty(registry)
        report = import_file(registry, "people", path, tmp_path / str(columnwise), today=TODAY, worker=False)
        counts = (report.rows, report.inserted, report.updated, report.unchanged, report.rejected, report.blank_rows)
        outcomes.append((counts, _registry(registry), rejects_rows(report.rejects_file)))
    assert opened == [True]  # the first import read column-wise, the second row by row
    assert outcomes[0] == outcomes[1]
    (rows, inserted, _updated, _unchanged, rejected, _blank), written, _rejects = outcomes[0]
    assert rows == 3300 and inserted >= 1000 and rejected >= 1000
    assert len(written["households"]) >= 300 and len(written["year_facts"]) >= 500
