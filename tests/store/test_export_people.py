"""``bangfu export people``: a region's people as XLSX, masked, read back with openpyxl; both back ends."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from import_db_support import PEOPLE_HEADER, TODAY, make_id, person_row, write_csv
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from audit_sabotage import refuse_audit_appends
from bangfu.access.scope import Scope
from bangfu.audit.log import verify
from bangfu.cli import app
from bangfu.core.disclosure import masked_id_number, masked_phone
from bangfu.registry.imports.importer import import_file
from bangfu.registry.imports.reading import open_table
from bangfu.registry.imports.rows import RawRow
from bangfu.registry.people_export import HEADERS, export_people
from bangfu.registry.queries import PeopleFilters, QueryError, Reader
from bangfu.store.db import make_engine
from bangfu.store.name_index import index_persons
from bangfu.store.tables import AuditEntry, Person

A = make_id("141123", "19800101", "123")  # 兴县, 吕梁市
B = make_id("141124", "19850505", "246")  # 临县, 吕梁市
C = make_id("140105", "19900909", "357")  # 小店区, 太原市
TESTS = Reader("tests", None)


@pytest.fixture
def people(registry: Engine, tmp_path: Path) -> Engine:
    rows = [
        person_row(A, "张三", "兴县", "脱贫人口、易地搬迁", "全劳力", "13912345678"),
        person_row(B, "李四", "临县", "边缘易致贫人口", "弱劳力", ""),
        person_row(C, "王五", "小店区", "防返贫监测对象", "半劳力", "0351-1234567"),
    ]
    source = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, rows)
    assert import_file(registry, "people", source, today=TODAY).inserted == 3
    return registry


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def read_back(path: Path) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = workbook.active
        assert sheet is not None and sheet.title == "人员"
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def test_a_city_exports_its_counties_only_masked(people: Engine, tmp_path: Path) -> None:
    out = tmp_path / "out" / "吕梁.xlsx"
    result = invoke(
        "export",
        "people",
        "--region",
        "1411",
        "--out",
        str(out),
        "--database",
        str(people.url.render_as_string(hide_password=False)),
    )
    assert result.exit_code == 0, result.output
    assert "已导出山西省吕梁市（1411）户籍人员 2 人" in result.stdout
    rows = read_back(out)
    assert rows[0] == HEADERS
    assert rows[0] == (
        *("姓名", "身份证号", "户籍所在县", "乡镇（街道）", "村"),
        *("人员类别", "劳动能力", "联系电话", "性别", "户编号"),
    )
    assert set(HEADERS) <= set(PEOPLE_HEADER) | {"性别", "户编号", "乡镇（街道）", "村"}
    assert sorted(rows[1:]) == sorted(
        [
            (
                "张三",
                masked_id_number(A),
                "山西省吕梁市兴县",
                None,  # the roster import leaves the township unknown
                None,
                "脱贫人口、易地搬迁群众",
                "普通劳动力",  # imported as 全劳力: exported in the national vocabulary
                masked_phone("13912345678"),
                "男",
                None,
            ),
            (
                *("李四", masked_id_number(B), "山西省吕梁市临县", None, None),
                *("边缘易致贫人口", "弱劳动力或半劳动力", None, "女", None),
            ),
        ]
    )
    assert masked_id_number(A) == "1411" + "*" * 12 + A[-2:]
    assert all(A not in str(cell) and "13912345678" not in str(cell) for row in rows for cell in row)


@pytest.mark.parametrize(
    ("region", "names"),
    [("141123", {"张三"}), ("14", {"张三", "李四", "王五"}), ("140106", set()), ("141123100", set())],
)
def test_county_province_and_an_empty_region(people: Engine, tmp_path: Path, region: str, names: set[str]) -> None:
    report = export_people(people, Scope.for_region(region), tmp_path / "x.xlsx", exported_by=TESTS)
    rows = read_back(tmp_path / "x.xlsx")
    assert report.rows == len(rows) - 1 == len(names)
    assert {row[0] for row in rows[1:]} == names


def test_pages_do_not_lose_or_repeat_rows(people: Engine, tmp_path: Path) -> None:
    report = export_people(people, Scope.for_region("14"), tmp_path / "x.xlsx", exported_by=TESTS, page_rows=2)
    rows = read_back(tmp_path / "x.xlsx")[1:]
    assert report.rows == 3 and sorted(row[1] for row in rows) == sorted(masked_id_number(i) for i in (A, B, C))
    assert {row[7] for row in rows} == {masked_phone("13912345678"), masked_phone("0351-1234567"), None}


@pytest.mark.parametrize("region", ["9999", "1499", "abc", "140105999"])
def test_an_unknown_region_exits_2_naming_it(people: Engine, tmp_path: Path, region: str) -> None:
    out = tmp_path / "x.xlsx"
    url = people.url.render_as_string(hide_password=False)
    result = invoke("export", "people", "--region", region, "--out", str(out), "--database", url)
    assert result.exit_code == 2
    assert f"地区代码“{region}”不存在" in "".join(result.stderr.split())
    assert not out.exists()


def test_out_must_be_xlsx(people: Engine, tmp_path: Path) -> None:
    url = people.url.render_as_string(hide_password=False)
    result = invoke("export", "people", "--region", "14", "--out", str(tmp_path / "x.csv"), "--database", url)
    assert result.exit_code == 2
    assert "--out 应为 .xlsx 文件" in result.stderr


def test_formula_names_are_exported_and_rejected_as_text(registry: Engine, tmp_path: Path) -> None:
    from hostile_files import FORMULA_NAMES, assert_no_formula_cells

    # Imported (the importer stores names as written), exported by the CLI, and refused into the rejects file.
    good = [person_row(make_id("141123", "19800101", f"{n:03d}"), name) for n, name in enumerate(FORMULA_NAMES, 1)]
    refused = [[name, "123", "兴县", "脱贫人口", "全劳力", ""] for name in FORMULA_NAMES]
    source = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, good + refused)
    report = import_file(registry, "people", source, tmp_path / "rejects", today=TODAY)
    assert (report.inserted, report.rejected) == (len(FORMULA_NAMES), len(FORMULA_NAMES))

    out = tmp_path / "roster.xlsx"
    url = registry.url.render_as_string(hide_password=False)
    result = invoke("export", "people", "--region", "141123", "--out", str(out), "--database", url)
    assert result.exit_code == 0, result.output
    written = assert_no_formula_cells(out.read_bytes())
    assert sorted(written) == sorted("'" + name.strip() for name in FORMULA_NAMES)

    assert report.rejects_file is not None
    raw = report.rejects_file.read_bytes()
    assert b'"\'=HYPERLINK(""http://x"",""y"")"' in raw  # quoted, and text to Excel and WPS
    with report.rejects_file.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))[1:]
    assert [row[2] for row in rows] == ["'" + name for name in FORMULA_NAMES]
    # Staff correct the rejects file and import it again: the names come back as they were written.
    with open_table(report.rejects_file) as table:
        assert [row.values["姓名"] for row in table.rows() if isinstance(row, RawRow)] == list(FORMULA_NAMES)


def test_export_is_private_and_a_symlink_at_the_path_is_refused(people: Engine, tmp_path: Path) -> None:
    import stat

    url = people.url.render_as_string(hide_password=False)
    out = tmp_path / "roster.xlsx"
    assert invoke("export", "people", "--region", "14", "--out", str(out), "--database", url).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    stolen = tmp_path / "elsewhere.xlsx"
    link = tmp_path / "link.xlsx"
    link.symlink_to(stolen)  # dangling: following it would create the file there
    result = invoke("export", "people", "--region", "14", "--out", str(link), "--database", url)
    assert result.exit_code == 2
    assert "符号链接" in "".join(result.output.split())
    assert not stolen.exists() and link.is_symlink()


def test_every_export_is_audited_before_the_file_appears(people: Engine, tmp_path: Path) -> None:
    url = people.url.render_as_string(hide_password=False)
    with people.connect() as connection:
        before = connection.scalar(select(func.max(AuditEntry.id)))
    out = tmp_path / "x.xlsx"
    assert invoke("export", "people", "--region", "1411", "--out", str(out), "--database", url).exit_code == 0
    with people.connect() as connection:
        entry = connection.execute(select(AuditEntry).where(AuditEntry.id > before)).one()
        assert (entry.action, entry.target_id, entry.after) == ("people.export", "1411", '{"masked":true,"rows":2}')
        assert entry.actor.startswith("cli") and verify(connection).ok


def test_no_file_when_the_audit_entry_cannot_be_written(fresh_database: str, tmp_path: Path) -> None:
    row = person_row(A, "张三", "兴县", "脱贫人口", "全劳力", "")
    source = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [row])
    engine = make_engine(fresh_database)
    try:
        assert import_file(engine, "people", source, today=TODAY).inserted == 1
        refuse_audit_appends(fresh_database)
        out = tmp_path / "x.xlsx"
        result = invoke("export", "people", "--region", "14", "--out", str(out), "--database", fresh_database)
        assert result.exit_code != 0
        assert not out.exists() and not list(tmp_path.glob(".x.xlsx*"))
    finally:
        engine.dispose()


def test_the_export_honours_the_search_filters(people: Engine, tmp_path: Path) -> None:
    province = Scope.for_region("14")
    cases = [
        (PeopleFilters(name="张"), {"张三"}),
        (PeopleFilters(name="ls"), {"李四"}),
        (PeopleFilters(region="吕梁市"), {"张三", "李四"}),
        (PeopleFilters(region="临县", category="edge_of_poverty"), {"李四"}),
        (PeopleFilters(region="兴县", name="李"), set()),
    ]
    for filters, names in cases:
        out = tmp_path / "x.xlsx"
        report = export_people(people, province, out, exported_by=TESTS, filters=filters)
        assert {row[0] for row in read_back(out)[1:]} == names, filters
        assert report.rows == len(names)
    with people.connect() as connection:
        after = connection.scalars(select(AuditEntry.after).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert '"filters"' in str(after) and "兴县" in str(after)
    with pytest.raises(QueryError, match="有多个地区名为“龙泉镇”") as raised:
        export_people(people, province, tmp_path / "y.xlsx", exported_by=TESTS, filters=PeopleFilters(region="龙泉镇"))
    assert raised.value.field == "region" and not (tmp_path / "y.xlsx").exists()


def test_township_and_village_columns_are_formula_neutral(registry: Engine, tmp_path: Path) -> None:
    with registry.begin() as connection:
        connection.execute(
            Person.__table__.insert().values(
                id_number=A,
                name="=HYPERLINK(1)",
                sex="male",
                birth_date=dt.date(1980, 1, 1),
                hukou_region="141123",
                township_code="141123100",
                original_record='{"村": "=cmd|1", "户主": "x"}',
            )
        )
        index_persons(connection, connection.scalars(select(Person.id)).all())
    out = tmp_path / "x.xlsx"
    export_people(registry, Scope.for_region("141123"), out, exported_by=TESTS)
    row = read_back(out)[1]
    assert row[3] == "蔚汾镇"
    assert row[0] == "'=HYPERLINK(1)" and row[4] == "'=cmd|1"
