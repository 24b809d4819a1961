"""``bangfu export people``: a region's people as XLSX, masked, read back with openpyxl; both back ends."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from import_db_support import PEOPLE_HEADER, TODAY, make_id, person_row, write_csv
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from bangfu.access.scope import Scope
from bangfu.cli import app
from bangfu.core.citizen_id import mask, mask_phone
from bangfu.registry.importer import import_file
from bangfu.registry.people_export import HEADERS, export_people

A = make_id("141123", "19800101", "123")  # 兴县, 吕梁市
B = make_id("141124", "19850505", "246")  # 临县, 吕梁市
C = make_id("140105", "19900909", "357")  # 小店区, 太原市


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
    assert rows[0] == ("姓名", "身份证号", "户籍所在县", "人员类别", "劳动能力", "联系电话", "性别", "户编号")
    assert set(HEADERS) <= set(PEOPLE_HEADER) | {"性别", "户编号"}
    assert sorted(rows[1:]) == sorted(
        [
            (
                "张三",
                mask(A),
                "山西省吕梁市兴县",
                "脱贫人口、易地搬迁群众",
                "普通劳动力",  # imported as 全劳力: exported in the national vocabulary
                mask_phone("13912345678"),
                "男",
                None,
            ),
            ("李四", mask(B), "山西省吕梁市临县", "边缘易致贫人口", "弱劳动力或半劳动力", None, "女", None),
        ]
    )
    assert mask(A) == "1411**********" + A[-4:]
    assert all(A not in str(cell) and "13912345678" not in str(cell) for row in rows for cell in row)


@pytest.mark.parametrize(
    ("region", "names"),
    [("141123", {"张三"}), ("14", {"张三", "李四", "王五"}), ("140106", set()), ("141123100", set())],
)
def test_county_province_and_an_empty_region(people: Engine, tmp_path: Path, region: str, names: set[str]) -> None:
    report = export_people(people, Scope.for_region(region), tmp_path / "x.xlsx")
    rows = read_back(tmp_path / "x.xlsx")
    assert report.rows == len(rows) - 1 == len(names)
    assert {row[0] for row in rows[1:]} == names


def test_pages_do_not_lose_or_repeat_rows(people: Engine, tmp_path: Path) -> None:
    report = export_people(people, Scope.for_region("14"), tmp_path / "x.xlsx", page_rows=2)
    rows = read_back(tmp_path / "x.xlsx")[1:]
    assert report.rows == 3 and sorted(row[1] for row in rows) == sorted(mask(i) for i in (A, B, C))
    assert {row[5] for row in rows} == {mask_phone("13912345678"), mask_phone("0351-1234567"), None}


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
