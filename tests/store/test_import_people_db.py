"""The database half of importing people, on SQLite and PostgreSQL: insert, re-import, update, refuse, roll back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from import_db_support import PEOPLE_HEADER, TODAY, count, make_id, person_row, rejects_rows, write_csv
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from bangfu.registry.imports import importer
from bangfu.registry.imports.headers import HeaderError
from bangfu.registry.imports.importer import ImportReport, import_file
from bangfu.registry.imports.upsert import base
from bangfu.store.db import make_engine, make_sessionmaker
from bangfu.store.migrate import SchemaNotCurrentError
from bangfu.store.tables import Household, ImportBatch, ImportChange, Person, PersonCategory

A = make_id("141123", "19800101", "123")
B = make_id("141124", "19850505", "246")
C = make_id("140105", "19900909", "357")


def people(path: Path, rows: list[list[str]], **kwargs: Any) -> Path:
    return write_csv(path, PEOPLE_HEADER + kwargs.pop("extra_header", []), rows, **kwargs)


def run(engine: Engine, path: Path, today: dt.date = TODAY, **kwargs: Any) -> ImportReport:
    kwargs.setdefault("batch_size", 2)  # several batches even for a handful of rows
    return import_file(engine, "people", path, path.parent / "rejects", today=today, **kwargs)


def outcome(report: ImportReport) -> tuple[int, int, int, int]:
    return report.inserted, report.updated, report.unchanged, report.rejected


def person(engine: Engine, id_number: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(Person).where(Person.id_number == id_number)).one()


def categories(engine: Engine, id_number: str) -> list[tuple[str, dt.date, dt.date | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(PersonCategory.category, PersonCategory.start_date, PersonCategory.end_date)
            .join(Person, Person.id == PersonCategory.person_id)
            .where(Person.id_number == id_number)
            .order_by(PersonCategory.category, PersonCategory.start_date)
        )
        return [tuple(row) for row in rows]


def test_insert_then_reimport_changes_nothing(registry: Engine, tmp_path: Path) -> None:
    source = people(
        tmp_path / "人员.csv",
        [
            person_row(A),
            person_row(B, "李四", "临县", "脱贫人口、易地搬迁", "弱劳力", ""),
            person_row(C, "王五", "140105"),
        ],
    )
    first = run(registry, source)
    assert outcome(first) == (3, 0, 0, 0)
    assert first.rows == 3 and first.rejects_file is None and first.earlier_import_at is None
    stored = person(registry, B)
    assert (stored.name, stored.hukou_region, stored.labor_capacity, stored.phone) == ("李四", "141124", "weak", None)
    assert (stored.sex, stored.birth_date) == ("female", dt.date(1985, 5, 5))
    assert categories(registry, B) == [("poverty_alleviated", TODAY, None), ("relocated", TODAY, None)]

    second = run(registry, source)
    assert outcome(second) == (0, 0, 3, 0)
    assert second.earlier_import_at is not None
    assert count(registry, Person) == 3
    assert count(registry, PersonCategory) == 4
    assert count(registry, ImportChange) == 0
    with registry.connect() as connection:
        batches = connection.execute(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [(b.kind, b.file_name, b.inserted, b.unchanged, b.rejected) for b in batches] == [
        ("people", "人员.csv", 3, 0, 0),
        ("people", "人员.csv", 0, 3, 0),
    ]
    assert batches[0].sha256 == batches[1].sha256 and len(batches[0].sha256) == 64
    assert all(b.finished_at is not None for b in batches)


def test_a_changed_field_is_updated_and_logged(registry: Engine, tmp_path: Path) -> None:
    run(registry, people(tmp_path / "a.csv", [person_row(A), person_row(B, "李四")]))
    # A: labour capacity changed; B: phone left empty, which keeps the registered phone.
    changed = people(tmp_path / "b.csv", [person_row(A, capacity="弱劳力"), person_row(B, "李四", phone="")])
    report = run(registry, changed)
    assert outcome(report) == (0, 1, 1, 0)
    assert person(registry, A).labor_capacity == "weak"
    assert person(registry, B).phone == "13912345678"
    with registry.connect() as connection:
        logged = connection.execute(select(ImportChange)).one()
    assert (logged.batch_id, logged.line, logged.field, logged.before, logged.after) == (
        report.batch_id,
        2,
        "labor_capacity",
        "ordinary",
        "weak",
    )
    assert logged.row_id == person(registry, A).id


def test_categories_follow_the_roster(registry: Engine, tmp_path: Path) -> None:
    run(registry, people(tmp_path / "a.csv", [person_row(A, categories="脱贫人口、防返贫监测对象")]))
    later = TODAY + dt.timedelta(days=30)
    report = run(registry, people(tmp_path / "b.csv", [person_row(A, categories="脱贫人口、易地搬迁")]), today=later)
    assert outcome(report) == (0, 1, 0, 0)
    assert categories(registry, A) == [
        ("monitored", TODAY, later - dt.timedelta(days=1)),
        ("poverty_alleviated", TODAY, None),
        ("relocated", later, None),
    ]
    # Withdrawn on the day it was added: the period is removed rather than ended before it began.
    again = run(registry, people(tmp_path / "c.csv", [person_row(A, categories="脱贫人口")]), today=later)
    assert outcome(again) == (0, 1, 0, 0)
    assert [c for c, _, end in categories(registry, A) if end is None] == ["poverty_alleviated"]
    assert ("relocated", later, None) not in categories(registry, A)


def test_a_different_name_is_a_conflict_never_an_overwrite(registry: Engine, tmp_path: Path) -> None:
    run(registry, people(tmp_path / "a.csv", [person_row(A, "张三")]))
    report = run(registry, people(tmp_path / "b.csv", [person_row(A, "张叁", capacity="弱劳力")]))
    assert outcome(report) == (0, 0, 0, 1)
    assert report.conflicts == 1
    stored = person(registry, A)
    assert (stored.name, stored.labor_capacity) == ("张三", "ordinary")
    written = rejects_rows(report.rejects_file)
    assert written[0] == ["行号", "拒绝原因", *PEOPLE_HEADER]
    assert written[1] == [
        "2",
        "与已登记信息冲突：姓名 张叁 ≠ 已登记 张三（如属更名请先在系统中变更）",
        *person_row(A, "张叁", capacity="弱劳力"),
    ]
    with registry.connect() as connection:
        batch = connection.execute(select(ImportBatch).where(ImportBatch.id == report.batch_id)).one()
    assert (batch.rejected, batch.conflicts, batch.rejects_file) == (1, 1, str(report.rejects_file))


def test_a_repeated_id_in_the_file_is_refused_once_imported(registry: Engine, tmp_path: Path) -> None:
    report = run(registry, people(tmp_path / "a.csv", [person_row(A), person_row(B), person_row(A, "张三")]))
    assert outcome(report) == (2, 0, 0, 1)
    assert rejects_rows(report.rejects_file)[1][:2] == ["4", "文件内身份证号重复（首次出现在第 2 行）"]
    assert count(registry, Person) == 2


def test_every_row_is_counted_exactly_once(registry: Engine, tmp_path: Path) -> None:
    d = make_id("141123", "19750101", "135")
    run(registry, people(tmp_path / "a.csv", [person_row(A), person_row(B, "李四"), person_row(d, "孙七")]))
    rows = [
        person_row(A),  # unchanged
        person_row(B, "李四", capacity="半劳力"),  # updated
        person_row(C, "王五"),  # inserted
        person_row(make_id("141123", "19700101", "111"), "赵六"),  # inserted
        person_row(A[:-1] + ("0" if A[-1] != "0" else "1"), "错号"),  # check digit wrong
        person_row(d, "孙柒"),  # conflict
        ["", "", "", "", "", ""],  # blank: skipped, not a row
        person_row(C, "王五"),  # repeat in the file
    ]
    report = run(registry, people(tmp_path / "b.csv", rows))
    assert outcome(report) == (2, 1, 1, 3)
    assert report.rows == 7 and report.blank_rows == 1 and report.conflicts == 1
    assert report.inserted + report.updated + report.unchanged + report.rejected == report.rows
    assert [row[0] for row in rejects_rows(report.rejects_file)[1:]] == ["6", "7", "9"]


def test_household_numbers_must_be_registered_first(registry: Engine, tmp_path: Path) -> None:
    with registry.begin() as connection:
        connection.execute(
            Household.__table__.insert().values(household_number="HH-1", region_code="141123", address="")
        )
    rows = [[*person_row(A), "HH-1"], [*person_row(B, "李四"), "HH-404"]]
    report = run(registry, people(tmp_path / "a.csv", rows, extra_header=["户编号"]))
    assert outcome(report) == (1, 0, 0, 1)
    assert person(registry, A).household_id is not None
    reason = rejects_rows(report.rejects_file)[1][1]
    assert reason == "户编号“HH-404”尚未登记：请先导入家庭户（bangfu import households），再导入本行"


class SimulatedCrash(OperationalError):
    def __init__(self) -> None:
        super().__init__("INSERT …", None, Exception("disk I/O error (simulated)"))


def test_a_crash_half_way_leaves_the_registry_as_it_was(
    registry: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(registry, people(tmp_path / "a.csv", [person_row(A)]))
    before = {model: count(registry, model) for model in (Person, PersonCategory, ImportBatch, ImportChange)}
    rows = [person_row(A, capacity="弱劳力"), person_row(B, "李四"), ["x", "1", "兴县", "脱贫人口", "全劳力", ""]]
    rows += [person_row(make_id("141123", f"1970010{day}", "111"), "赵六") for day in range(1, 6)]
    source = people(tmp_path / "b.csv", rows)

    # Only the crash is simulated: the third bulk insert (rows 5 onwards) fails as a full disk would.
    calls = {"n": 0}
    real_insert = base.insert_rows

    def failing_insert(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise SimulatedCrash
        real_insert(*args)

    monkeypatch.setattr(base, "insert_rows", failing_insert)
    with pytest.raises(OperationalError, match="simulated"):
        run(registry, source)
    assert calls["n"] == 3  # rows had been written before the crash
    assert {model: count(registry, model) for model in before} == before
    assert person(registry, A).labor_capacity == "ordinary"
    assert list((tmp_path / "rejects").glob("*.csv")) == []  # the refused row's file is gone too


def test_outcomes_that_do_not_add_up_roll_back(
    registry: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Miscounting(importer._Tally):
        def add(self, outcome: base.Outcome) -> None:
            super().add(outcome)
            self.counts[base.INSERTED] += 1

    monkeypatch.setattr(importer, "_Tally", Miscounting)
    with pytest.raises(importer.ImportCountError):
        run(registry, people(tmp_path / "a.csv", [person_row(A)]))
    assert count(registry, Person) == 0 and count(registry, ImportBatch) == 0


def test_a_wrong_header_changes_nothing(registry: Engine, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", ["姓名", "身份证号"], [["张三", A]])
    with pytest.raises(HeaderError, match="缺少必需的列：户籍所在县、人员类别、劳动能力、联系电话"):
        run(registry, source)
    assert count(registry, ImportBatch) == 0 and not (tmp_path / "rejects").exists()


def test_a_database_without_schema_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'empty.db').as_posix()}")
    try:
        with pytest.raises(SchemaNotCurrentError):
            run(engine, people(tmp_path / "a.csv", [person_row(A)]))
    finally:
        engine.dispose()


def test_a_session_factory_works_like_an_engine(registry: Engine, tmp_path: Path) -> None:
    report = import_file(
        make_sessionmaker(registry), "people", people(tmp_path / "a.csv", [person_row(A)]), today=TODAY
    )
    assert outcome(report) == (1, 0, 0, 0)
    assert count(registry, Person) == 1


def test_the_worker_process_gives_the_same_result(registry: Engine, tmp_path: Path) -> None:
    rows = [person_row(A), person_row(B, "李四"), person_row(A, "张三"), ["张", "1", "兴县", "脱贫人口", "全劳力", ""]]
    source = people(tmp_path / "a.csv", rows)
    report = run(registry, source, worker=True)
    assert outcome(report) == (2, 0, 0, 2)
    assert [row[0] for row in rejects_rows(report.rejects_file)[1:]] == ["4", "5"]
    assert outcome(run(registry, source, worker=True)) == (0, 0, 2, 2)
