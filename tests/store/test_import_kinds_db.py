"""Households, organizations, employment and training into the registry, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from import_db_support import PEOPLE_HEADER, TODAY, count, make_id, person_row, rejects_rows, write_csv
from sqlalchemy import Engine, select

from bangfu.registry.imports.importer import ImportReport, import_file
from bangfu.registry.imports.values import credit_code_check_char
from bangfu.store.tables import (
    EmploymentSpell,
    Household,
    ImportChange,
    Organization,
    OrganizationRecognition,
    TrainingRecord,
)

A = make_id("141123", "19800101", "123")
B = make_id("141124", "19850505", "246")
UNKNOWN = make_id("140105", "19900909", "357")

HOUSEHOLD_HEADER = ["户编号", "户主姓名", "户主身份证号", "户籍所在县", "家庭人口数", "户类别", "联系电话"]
ORGANIZATION_HEADER = ["单位名称", "统一社会信用代码", "单位类型", "所在县", "联系人", "是否认定为就业帮扶基地"]
EMPLOYMENT_HEADER = ["身份证号", "姓名", "用工单位", "务工地", "开始日期", "结束日期", "交通费（元）", "月收入（元）"]
TRAINING_HEADER = ["身份证号", "姓名", "培训机构", "培训项目", "开始日期", "天数", "证书"]


def credit_code(serial: int) -> str:
    first17 = f"91141123MA{serial:07d}"
    return first17 + credit_code_check_char(first17)


def run(engine: Engine, kind: str, path: Path, today: dt.date = TODAY) -> ImportReport:
    return import_file(engine, kind, path, path.parent / "rejects", today=today, batch_size=2)


def outcome(report: ImportReport) -> tuple[int, int, int, int]:
    return report.inserted, report.updated, report.unchanged, report.rejected


def register_people(engine: Engine, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [person_row(A, "张三"), person_row(B, "李四")])
    assert run(engine, "people", source).inserted == 2


def only(engine: Engine, model: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(select(model)).one()


def test_households(registry: Engine, tmp_path: Path) -> None:
    register_people(registry, tmp_path)
    rows = [
        ["HH-1", "张三", A, "兴县", "4", "脱贫人口、易地搬迁", ""],
        ["HH-2", "李肆", B, "临县", "", "", ""],  # the head is registered as 李四
    ]
    first = run(registry, "households", write_csv(tmp_path / "h1.csv", HOUSEHOLD_HEADER, rows))
    assert outcome(first) == (1, 0, 0, 1) and first.conflicts == 1
    assert rejects_rows(first.rejects_file)[1][1] == (
        "与已登记信息冲突：户主姓名 李肆 ≠ 已登记 李四（如属更名请先在系统中变更）"
    )
    stored = only(registry, Household)
    assert (stored.household_number, stored.region_code, stored.head_id_number, stored.member_count) == (
        "HH-1",
        "141123",
        A,
        4,
    )
    assert stored.categories == "poverty_alleviated,relocated"
    again = [["HH-1", "张三", A, "兴县", "5", "", ""]]  # one more member; empty categories keep the old
    second = run(registry, "households", write_csv(tmp_path / "h2.csv", HOUSEHOLD_HEADER, again))
    assert outcome(second) == (0, 1, 0, 0)
    changed = only(registry, Household)
    assert (changed.member_count, changed.categories) == (5, "poverty_alleviated,relocated")


def test_organizations(registry: Engine, tmp_path: Path) -> None:
    rows = [
        ["兴县兴农农业科技有限公司", credit_code(1), "企业", "兴县", "王经理", "是"],
        ["兴县某劳务经纪人", "", "劳务经纪人", "兴县", "", ""],
    ]
    first = run(registry, "organizations", write_csv(tmp_path / "o1.csv", ORGANIZATION_HEADER, rows))
    assert outcome(first) == (1, 0, 0, 1)
    assert "无代码的劳务经纪人暂不能导入" in rejects_rows(first.rejects_file)[1][1]
    org = only(registry, Organization)
    assert (org.credit_code, org.kind, org.region_code, org.contact_name) == (
        credit_code(1),
        "enterprise",
        "141123",
        "王经理",
    )
    recognition = only(registry, OrganizationRecognition)
    assert (recognition.recognition, recognition.start_date, recognition.end_date) == ("employment_base", TODAY, None)

    # Renamed under the same code, and no longer a recognized base: both are updates.
    later = TODAY + dt.timedelta(days=10)
    renamed = [["兴县兴农科技有限公司", credit_code(1), "企业", "兴县", "", "否"]]
    second = run(registry, "organizations", write_csv(tmp_path / "o2.csv", ORGANIZATION_HEADER, renamed), later)
    assert outcome(second) == (0, 1, 0, 0)
    assert (only(registry, Organization).name, only(registry, Organization).contact_name) == (
        "兴县兴农科技有限公司",
        "王经理",
    )
    assert only(registry, OrganizationRecognition).end_date == later - dt.timedelta(days=1)
    with registry.connect() as connection:
        fields = set(connection.scalars(select(ImportChange.field).where(ImportChange.batch_id == second.batch_id)))
    assert fields == {"name", "recognized_base"}


def test_employment(registry: Engine, tmp_path: Path) -> None:
    register_people(registry, tmp_path)
    rows = [
        [A, "张三", "昆山某电子厂", "江苏省", "2024-03-01", "", "950", "5200"],
        [UNKNOWN, "王五", "太钢", "太原市", "2024-03-01", "", "", ""],
        [B, "李肆", "太钢", "太原市", "2024-04-01", "", "", ""],  # the ID number is 李四's
        [B, "", "太钢", "太原市小店区", "2024-05-01", "", "", ""],  # no name to check
    ]
    first = run(registry, "employment", write_csv(tmp_path / "e1.csv", EMPLOYMENT_HEADER, rows))
    assert outcome(first) == (2, 0, 0, 2) and first.conflicts == 1
    assert [row[1] for row in rejects_rows(first.rejects_file)[1:]] == [
        "未找到该身份证号的人员，请先导入人员",
        "与已登记信息冲突：姓名 李肆 ≠ 已登记 李四（如属更名请先在系统中变更）",
    ]
    with registry.connect() as connection:
        spells = connection.execute(select(EmploymentSpell).order_by(EmploymentSpell.start_date)).all()
    assert [(s.employer_name, s.work_region, s.travel_cost_fen, s.monthly_income_fen) for s in spells] == [
        ("昆山某电子厂", "320000", 95000, 520000),
        ("太钢", "140105", None, None),
    ]
    assert spells[0].organized_export is None  # a blank 是否有组织输出 is unknown, not 否

    # The spell ended; 江苏省 again says nothing new about its place; the other spell is unchanged.
    again = [
        [A, "张三", "昆山某电子厂", "江苏", "2024-03-01", "2024-06-01", "950", ""],
        [B, "李四", "太钢", "太原市", "2024-05-01", "", "", ""],
    ]
    second = run(registry, "employment", write_csv(tmp_path / "e2.csv", EMPLOYMENT_HEADER, again))
    assert outcome(second) == (0, 1, 1, 0)
    with registry.connect() as connection:
        ended = connection.execute(select(EmploymentSpell).where(EmploymentSpell.employer_name == "昆山某电子厂")).one()
    assert (ended.end_date, ended.work_region, ended.monthly_income_fen) == (dt.date(2024, 6, 1), "320000", 520000)
    assert count(registry, EmploymentSpell) == 2


def test_training(registry: Engine, tmp_path: Path) -> None:
    register_people(registry, tmp_path)
    rows = [
        [A, "张三", "兴县职业培训学校", "电工", "2024-04-01", "10", ""],
        [UNKNOWN, "", "兴县职业培训学校", "电工", "2024-04-01", "10", ""],
    ]
    first = run(registry, "training", write_csv(tmp_path / "t1.csv", TRAINING_HEADER, rows))
    assert outcome(first) == (1, 0, 0, 1)
    again = [[A, "张三", "兴县职业培训学校", "电工", "2024-04-01", "12", "初级电工证"]]
    second = run(registry, "training", write_csv(tmp_path / "t2.csv", TRAINING_HEADER, again))
    assert outcome(second) == (0, 1, 0, 0)
    stored = only(registry, TrainingRecord)
    assert (stored.provider, stored.programme, stored.days, stored.certificate) == (
        "兴县职业培训学校",
        "电工",
        12,
        "初级电工证",
    )
    third = run(registry, "training", write_csv(tmp_path / "t3.csv", TRAINING_HEADER, again))
    assert outcome(third) == (0, 0, 1, 0)


def test_text_longer_than_its_column_is_refused_not_truncated(registry: Engine, tmp_path: Path) -> None:
    register_people(registry, tmp_path)
    rows = [[A, "张三", "厂" * 201, "江苏省", "2024-03-01", "", "", ""]]
    report = run(registry, "employment", write_csv(tmp_path / "e.csv", EMPLOYMENT_HEADER, rows))
    assert outcome(report) == (0, 0, 0, 1)
    assert rejects_rows(report.rejects_file)[1][1] == "用工单位超过 200 个字（201 个字），请核对"


def test_an_import_is_on_the_audit_chain(registry: Engine, tmp_path: Path) -> None:
    from bangfu.audit.log import verify
    from bangfu.store.tables import AuditEntry

    report = run(registry, "people", write_csv(tmp_path / "p.csv", PEOPLE_HEADER, [person_row(A, "张三")]))
    with registry.connect() as connection:
        entry = connection.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        assert verify(connection).ok
    assert (entry.action, entry.target_type, entry.target_id) == ("import.people", "import_batch", str(report.batch_id))
    assert entry.actor.startswith("cli:")
    assert '"inserted":1' in (entry.after or "") and '"file":"p.csv"' in (entry.after or "")
