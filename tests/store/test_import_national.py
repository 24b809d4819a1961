"""Importing the national monitoring system's person table (人口信息) with ``import people``, on both back ends."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from import_db_support import PEOPLE_HEADER, TODAY, count, rejects_rows, write_csv
from national_support import (
    DATA_ROWS,
    HOUSEHOLDS,
    SAMPLE,
    edited,
    sample_table,
    without_columns,
    write_national_csv,
    write_national_xlsx,
)
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from bangfu.cli import app
from bangfu.registry.imports.headers import HeaderError
from bangfu.registry.imports.importer import ImportReport, import_file
from bangfu.registry.imports.upsert import base
from bangfu.store.tables import Household, ImportChange, Person, PersonCategory, PersonYearFacts

HEAD_ID = "140925198904218824"  # 高永红, head of 1409254110000100, 技能劳动力, worked 10 months in 2024
SPOUSE_ID = "140925197707179729"  # 徐斌, 弱劳动力或半劳动力, 护林员 for 12 months
MONITORED_ID = "140925197203192882"  # 徐静, 监测户 / 脱贫不稳定户, 风险已消除
LOST_ID = "141123196601043452"  # 高勇, 丧失劳动力
CHILD_ID = "140925201009232798"  # 朱红梅, no 成员联系电话: the household's phone is used


def sample(tmp_path: Path) -> Path:
    """A copy of the sample, so that rejects and lists are written beside it in the test's folder."""
    return Path(shutil.copy(SAMPLE, tmp_path / "人口信息.xlsx"))


def run(engine: Engine, path: Path, today: dt.date = TODAY, **kwargs: Any) -> ImportReport:
    kwargs.setdefault("batch_size", 7)  # several batches, households split across them
    return import_file(engine, "people", path, path.parent / "out", today=today, **kwargs)


def person(engine: Engine, id_number: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(Person).where(Person.id_number == id_number)).one()


def current_categories(engine: Engine, id_number: str) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(PersonCategory.category)
            .join(Person, Person.id == PersonCategory.person_id)
            .where(Person.id_number == id_number, PersonCategory.end_date.is_(None))
            .order_by(PersonCategory.category)
        )
        return list(rows.scalars())


def year_facts(engine: Engine, id_number: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(
            select(PersonYearFacts)
            .join(Person, Person.id == PersonYearFacts.person_id)
            .where(Person.id_number == id_number)
        ).one()


def test_the_sample_imports_every_row_with_households_and_facts(registry: Engine, tmp_path: Path) -> None:
    report = run(registry, sample(tmp_path))
    assert (report.layout, report.rows, report.inserted, report.rejected) == ("national", DATA_ROWS, DATA_ROWS, 0)
    assert (count(registry, Person), count(registry, Household)) == (DATA_ROWS, HOUSEHOLDS)

    head = person(registry, HEAD_ID)
    assert (head.name, head.hukou_region, head.township_code, head.labor_capacity) == (
        "高永红",
        "140925",
        "140925100",
        "skilled",
    )
    assert (head.person_number, head.relation_to_head, head.phone) == ("140925411000010001", "户主", "13856901702")
    assert (head.minimum_living_allowance, head.extreme_poverty_support, head.health) == (False, False, "健康")
    kept = json.loads(head.original_record)
    assert kept["村"] == "石家庄村" and kept["民族"] == "汉族" and kept["识别标准"] == "国家标准"
    assert "证件号码" not in kept  # used columns are stored in their own place, not twice
    with registry.connect() as connection:
        household = connection.execute(select(Household).where(Household.household_number == "1409254110000100")).one()
    assert (household.head_name, household.head_id_number, household.region_code) == ("高永红", HEAD_ID, "140925")
    assert household.categories == "poverty_alleviated"
    assert person(registry, SPOUSE_ID).household_id == household.id
    work = year_facts(registry, HEAD_ID)
    assert (work.year, work.work_months, work.work_place, work.employment_channel) == (
        2024,
        10,
        "浙江省杭州市",
        "有组织劳务输出",
    )
    post = year_facts(registry, SPOUSE_ID)
    assert (post.welfare_post_type, post.welfare_post_months, person(registry, SPOUSE_ID).labor_capacity) == (
        "护林员",
        12,
        "weak",
    )

    assert current_categories(registry, MONITORED_ID) == ["monitored", "unstable_alleviated"]
    assert person(registry, MONITORED_ID).risk_removed_on == TODAY
    assert person(registry, LOST_ID).labor_capacity == "lost"
    assert person(registry, CHILD_ID).phone == "13915434079"  # 户联系电话 where 成员联系电话 is empty


def test_a_gbk_csv_of_the_sample_imports_the_same(registry: Engine, tmp_path: Path) -> None:
    source = write_national_csv(tmp_path / "人口信息.csv", sample_table(), "gbk")
    report = run(registry, source)
    outcome = (report.layout, report.encoding, report.inserted, report.rejected)
    assert outcome == ("national", "GBK/GB18030", DATA_ROWS, 0)
    assert person(registry, HEAD_ID).labor_capacity == "skilled"


def test_missing_columns_are_named_with_the_layout(registry: Engine, tmp_path: Path) -> None:
    source = write_national_xlsx(tmp_path / "缺列.xlsx", without_columns(["劳动技能", "户类型"]))
    with pytest.raises(HeaderError) as caught:
        run(registry, source)
    message = str(caught.value)
    assert "全国防返贫监测信息系统人口信息导入文件的表头有误：缺少必需的列：劳动技能、户类型" in message
    assert "证件号码（也可写作：身份证号码、身份证号） —— 必需" in message
    assert count(registry, Person) == 0


def _outside_shanxi(row: dict[str, Any]) -> dict[str, Any]:
    if row["证件号码"] == HEAD_ID:
        row.update({"省": "河北省", "市": "保定市", "县": "涞水县"})
    return row


def test_a_county_outside_shanxi_is_refused_with_its_row(registry: Engine, tmp_path: Path) -> None:
    report = run(registry, write_national_xlsx(tmp_path / "外省.xlsx", edited(_outside_shanxi)))
    assert (report.inserted, report.rejected) == (DATA_ROWS - 1, 1)
    refused = rejects_rows(report.rejects_file)[1]
    assert refused[0] == "3"
    assert "县“河北省保定市涞水县”不在山西省" in refused[1]


def _headless(row: dict[str, Any]) -> dict[str, Any]:
    if row["户编号"] == "1409257230000112":  # 周勇's household of one
        row.update({"户主证件号码": None, "户主姓名": None})
    return row


def test_a_household_without_head_is_refused(registry: Engine, tmp_path: Path) -> None:
    report = run(registry, write_national_xlsx(tmp_path / "无户主.xlsx", edited(_headless)))
    assert report.rejected == 1
    refused = rejects_rows(report.rejects_file)[1]
    assert refused[0] == "15"
    assert "户编号“1409257230000112”没有户主：户主证件号码为空" in refused[1]
    with registry.connect() as connection:
        assert connection.scalar(select(Household.id).where(Household.household_number == "1409257230000112")) is None


def _as_number(row: dict[str, Any]) -> dict[str, Any]:
    row["证件号码"] = float(row["证件号码"][:17] + "0") if row["证件号码"][-1].isdigit() else row["证件号码"]
    return row


def test_id_numbers_saved_as_numbers_are_refused_with_how_to_fix(registry: Engine, tmp_path: Path) -> None:
    report = run(registry, write_national_xlsx(tmp_path / "科学计数法.xlsx", edited(_as_number)))
    numeric = sum(1 for row in sample_table()[2] if row[11][-1].isdigit())
    assert (report.rejected, report.inserted) == (numeric, DATA_ROWS - numeric)
    reason = rejects_rows(report.rejects_file)[1][1]
    assert "已被 Excel 存成数字" in reason and "设为“文本”格式" in reason


def _next_month(row: dict[str, Any]) -> dict[str, Any] | None:
    if row["证件号码"] == HEAD_ID:
        row.update({"劳动技能": "丧失劳动力", "务工时间（月）": "6", "健康状况": "长期慢性病"})
    if row["证件号码"] in (LOST_ID, "141123199204218996"):
        return None  # 高勇's household: he and his wife are no longer listed
    return row


def test_next_months_download_updates_logs_and_reports_who_is_gone(registry: Engine, tmp_path: Path) -> None:
    run(registry, sample(tmp_path))
    later = TODAY + dt.timedelta(days=31)
    report = run(registry, write_national_xlsx(tmp_path / "下月.xlsx", edited(_next_month)), today=later)
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (0, 1, DATA_ROWS - 3, 0)
    head = person(registry, HEAD_ID)
    assert (head.labor_capacity, head.health) == ("lost", "长期慢性病")
    assert year_facts(registry, HEAD_ID).work_months == 6
    with registry.connect() as connection:
        logged = {
            row.field: (row.before, row.after)
            for row in connection.execute(select(ImportChange).where(ImportChange.batch_id == report.batch_id))
        }
    assert logged["labor_capacity"] == ("skilled", "lost")
    assert logged["health"] == ("健康", "长期慢性病")
    before, after = (json.loads(text) for text in logged["year_facts"])
    assert (before["work_months"], after["work_months"]) == (10, 6)
    # The risk was removed on the first import's day; saying so again keeps that day.
    assert person(registry, MONITORED_ID).risk_removed_on == TODAY

    assert report.absent == 2 and report.absent_file is not None
    listed = rejects_rows(report.absent_file)
    assert listed[0][:5] == ["姓名", "证件号码", "县", "户编号", "人口编号"]
    assert sorted(row[0] for row in listed[1:]) == ["陈永红", "高勇"]
    assert count(registry, Person) == DATA_ROWS  # reported, never deleted


def test_a_download_that_adds_some_and_drops_others_lists_only_those_dropped(registry: Engine, tmp_path: Path) -> None:
    # First: without 周勇's household (one person); next month: with it, and without 高勇's.
    first = edited(lambda row: None if row["户编号"] == "1409257230000112" else row)
    run(registry, write_national_xlsx(tmp_path / "本月.xlsx", first))
    later = TODAY + dt.timedelta(days=31)
    report = run(registry, write_national_xlsx(tmp_path / "下月.xlsx", edited(_next_month)), today=later)
    assert report.inserted == 1
    assert sorted(row[0] for row in rejects_rows(report.absent_file)[1:]) == ["陈永红", "高勇"]


def test_original_records_stored_with_other_spacing_are_not_changes(registry: Engine, tmp_path: Path) -> None:
    path = sample(tmp_path)
    run(registry, path)
    # Records stored before the compact encoding had a space after each separator.
    with registry.begin() as connection:
        for row_id, text in connection.execute(select(Person.id, Person.original_record)).all():
            spaced = json.dumps(json.loads(text), ensure_ascii=False)
            assert spaced != text
            connection.execute(Person.__table__.update().where(Person.id == row_id).values(original_record=spaced))
    again = run(registry, path)
    assert (again.updated, again.unchanged) == (0, DATA_ROWS)
    # A cell that really changed is still a change.
    changed = edited(lambda row: {**row, "民族": "回族"} if row["证件号码"] == HEAD_ID else row)
    report = run(registry, write_national_xlsx(tmp_path / "改.xlsx", changed))
    assert (report.updated, report.unchanged) == (1, DATA_ROWS - 1)
    assert json.loads(person(registry, HEAD_ID).original_record)["民族"] == "回族"


def test_a_failure_part_way_leaves_nothing_half_written(
    registry: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real_insert = base.insert_rows

    class SimulatedCrash(OperationalError):
        def __init__(self) -> None:
            super().__init__("insert", {}, Exception("simulated"))

    def failing_insert(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise SimulatedCrash
        real_insert(*args)

    monkeypatch.setattr(base, "insert_rows", failing_insert)
    with pytest.raises(OperationalError, match="simulated"):
        run(registry, sample(tmp_path))
    assert calls["n"] == 4  # households and persons had been written before the crash
    assert (count(registry, Person), count(registry, Household), count(registry, PersonYearFacts)) == (0, 0, 0)
    assert list(tmp_path.glob("**/*.csv")) == []


def test_the_reading_worker_gives_the_same_records(registry: Engine, tmp_path: Path) -> None:
    # Large downloads are read in a second process; its records must carry the national part too.
    report = run(registry, sample(tmp_path), worker=True)
    assert (report.inserted, report.rejected) == (DATA_ROWS, 0)
    assert year_facts(registry, SPOUSE_ID).welfare_post_type == "护林员"
    assert person(registry, MONITORED_ID).risk_removed_on == TODAY


def test_the_command_names_the_layout_and_refuses_a_header_with_exit_2(registry: Engine, tmp_path: Path) -> None:
    url = registry.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["import", "people", str(sample(tmp_path)), "--database", url])
    assert result.exit_code == 0, result.output
    assert "全国防返贫监测信息系统人口信息表格 人口信息.xlsx：共 33 行" in result.output
    broken = write_national_xlsx(tmp_path / "缺列.xlsx", without_columns(["证件号码"]))
    refused = CliRunner().invoke(app, ["import", "people", str(broken), "--database", url])
    assert refused.exit_code == 2
    assert "缺少必需的列：证件号码" in "".join(refused.output.split())


def test_the_download_leaves_categories_of_other_rosters_and_a_roster_leaves_its_facts(
    registry: Engine, tmp_path: Path
) -> None:
    roster = write_csv(
        tmp_path / "人员.csv",
        PEOPLE_HEADER,
        [["高永红", HEAD_ID, "宁武县", "脱贫人口、易地搬迁", "全劳力", "13912345678"]],
    )
    assert import_file(registry, "people", roster, tmp_path / "out", today=TODAY).inserted == 1
    later = TODAY + dt.timedelta(days=1)
    run(registry, sample(tmp_path), today=later)
    # 易地搬迁 came from another roster: a national download says nothing about it and leaves it.
    assert current_categories(registry, HEAD_ID) == ["poverty_alleviated", "relocated"]
    assert person(registry, HEAD_ID).labor_capacity == "skilled"
    # Bangfu's own roster afterwards corrects what it has columns for and leaves the national facts.
    again = import_file(registry, "people", roster, tmp_path / "out", today=later)
    assert again.updated == 1
    head = person(registry, HEAD_ID)
    assert (head.labor_capacity, head.person_number, head.health) == ("ordinary", "140925411000010001", "健康")
