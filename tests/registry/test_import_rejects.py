from __future__ import annotations

import csv
from pathlib import Path

from import_support import TODAY, make_id

from bangfu.registry.imports.headers import accepts, map_columns
from bangfu.registry.imports.reading import open_table
from bangfu.registry.imports.records import PersonRecord
from bangfu.registry.imports.rejects import RejectsWriter
from bangfu.registry.imports.rows import RawRow, Rejection
from bangfu.registry.imports.validate import validate_rows

HEADER = ["姓名", "身份证号", "户籍所在县", "人员类别", "劳动能力", "联系电话"]
GOOD = make_id("140105", "19900101", "123")


def test_rejects_file_is_excel_friendly_and_verbatim_but_never_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    with RejectsWriter(path, HEADER) as out:
        out.write(Rejection(3, ["张,三", '说"好"', "第一行\n第二行", "=1+1", " 前后空格 "], "原因一；原因二"))
        out.write(Rejection(9, ["李四"], "编码错误：……"))
        assert out.count == 2
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b'"\'=1+1"' in data  # quoted, and an apostrophe in front: Excel and WPS show text
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows == [
        ["行号", "拒绝原因", *HEADER],
        ["3", "原因一；原因二", "张,三", '说"好"', "第一行\n第二行", "'=1+1", " 前后空格 "],
        ["9", "编码错误：……", "李四"],
    ]
    with open_table(path) as table:  # imported again, the apostrophe comes off
        assert next(row.values for row in table.rows() if isinstance(row, RawRow))["人员类别"] == "=1+1"


def test_import_reject_fix_and_reimport(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        ",".join(HEADER)
        + "\n"
        + f"张三,{GOOD},小店区,脱贫人口,全劳力,13800138000\n"
        + f"李四,{GOOD[:-1]}0,平遥县,脱贫人口,全劳力,\n",
        encoding="gbk",
    )
    rejects = tmp_path / "rejects.csv"
    with open_table(source, header_accepts=accepts("people")) as table:
        columns = map_columns("people", table.header)
        with RejectsWriter(rejects, table.header) as out:
            records = []
            for result in validate_rows(table.rows(), columns, today=TODAY):
                if isinstance(result, Rejection):
                    out.write(result)
                else:
                    records.append(result)
    assert [record.line for record in records] == [2]

    # Staff open the rejects file in Excel, correct the ID number and import it as it is.
    text = rejects.read_text(encoding="utf-8-sig")
    assert "校验位错误" in text
    fixed_id = make_id("140728", "19800202", "246")
    header, cells = list(csv.reader(text.splitlines()))
    cells[3] = fixed_id
    rejects.write_text(",".join(header) + "\n" + ",".join(cells) + "\n", encoding="utf-8-sig")

    with open_table(rejects, header_accepts=accepts("people")) as table:
        assert table.header[:2] == ["行号", "拒绝原因"]
        columns = map_columns("people", table.header)
        assert columns.unused == ("行号", "拒绝原因")
        results = list(validate_rows(table.rows(), columns, today=TODAY))
    assert len(results) == 1
    assert isinstance(results[0], PersonRecord)
    assert results[0].name == "李四"
    assert results[0].id_number == fixed_id
