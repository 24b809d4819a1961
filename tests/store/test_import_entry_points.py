"""One entry point per file kind (``bangfu.registry.imports``): each imports its own kind, and refuses
another kind's file without writing anything, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_db_support import PEOPLE_HEADER, TODAY, count, make_id, person_row, write_csv
from sqlalchemy import Engine

from bangfu.registry.imports import IMPORTERS, import_households, import_people
from bangfu.registry.imports.headers import KINDS, HeaderError
from bangfu.store.tables import Household, Person

A = make_id("141123", "19800101", "123")


def test_every_kind_the_cli_offers_has_its_entry_point() -> None:
    assert list(IMPORTERS) == list(KINDS)


def test_each_entry_point_imports_its_kind_and_refuses_another(registry: Engine, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [person_row(A, "张三")])

    with pytest.raises(HeaderError):
        import_households(registry, people, tmp_path, today=TODAY)
    assert count(registry, Household) == 0 and count(registry, Person) == 0

    report = import_people(registry, people, tmp_path, today=TODAY)
    assert (report.kind, report.inserted) == ("people", 1)
    assert count(registry, Person) == 1
