from __future__ import annotations

from pathlib import Path

import pytest
from import_support import make_id

from bangfu.registry.imports.reading import RawRow, ReadError, Rejection, open_table

ID_A = make_id(sequence="123")
ID_B = make_id(sequence="124")
HEADER = "姓名,身份证号,户籍所在县"


def rows_of(path: Path) -> list[RawRow | Rejection]:
    with open_table(path) as table:
        return list(table.rows())


def write(path: Path, *parts: bytes) -> Path:
    path.write_bytes(b"".join(parts))
    return path


def test_utf8_rows_keep_line_numbers_and_cells(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", f"{HEADER}\n张三,{ID_A},小店区\n李四,{ID_B},平遥县\n".encode())
    with open_table(path) as table:
        assert table.format == "csv"
        assert table.encoding == "utf-8"
        assert table.header == ["姓名", "身份证号", "户籍所在县"]
        rows = list(table.rows())
    assert rows == [
        RawRow(2, {"姓名": "张三", "身份证号": ID_A, "户籍所在县": "小店区"}, ["张三", ID_A, "小店区"]),
        RawRow(3, {"姓名": "李四", "身份证号": ID_B, "户籍所在县": "平遥县"}, ["李四", ID_B, "平遥县"]),
    ]


def test_utf8_with_bom_has_a_clean_first_header(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", f"{HEADER}\r\n张三,{ID_A},小店区\r\n".encode("utf-8-sig"))
    with open_table(path) as table:
        assert table.encoding == "utf-8-sig"
        assert table.encoding_label == "UTF-8（带 BOM）"
        assert table.header[0] == "姓名"
        rows = list(table.rows())
    assert rows == [RawRow(2, {"姓名": "张三", "身份证号": ID_A, "户籍所在县": "小店区"}, ["张三", ID_A, "小店区"])]


def test_gbk_file_is_detected_and_decoded(tmp_path: Path) -> None:
    path = write(tmp_path / "gbk.csv", f"{HEADER}\r\n张三,{ID_A},小店区\r\n郭晋生,{ID_B},平遥县\r\n".encode("gbk"))
    with open_table(path) as table:
        assert table.encoding == "gb18030"
        assert table.header == ["姓名", "身份证号", "户籍所在县"]
        rows = list(table.rows())
    assert [row.original for row in rows] == [["张三", ID_A, "小店区"], ["郭晋生", ID_B, "平遥县"]]


def test_gbk_detected_when_the_first_64_kib_are_ascii(tmp_path: Path) -> None:
    ascii_rows = b"".join(f"name{i},{ID_A},140105\n".encode() for i in range(4000))
    path = write(tmp_path / "late.csv", b"name,id,county\n", ascii_rows, f"张三,{ID_B},小店区\n".encode("gbk"))
    assert path.stat().st_size > 64 * 1024
    rows = rows_of(path)
    assert len(rows) == 4001
    assert rows[-1] == RawRow(4002, {"name": "张三", "id": ID_B, "county": "小店区"}, ["张三", ID_B, "小店区"])


def test_gbk_row_inside_utf8_file_is_rejected_not_replaced(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.csv",
        f"{HEADER}\n张三,{ID_A},小店区\n".encode(),
        f"李四,{ID_B},平遥县\n".encode("gbk"),
        f"王五,{ID_B},古交市\n".encode(),
    )
    rows = rows_of(path)
    assert isinstance(rows[0], RawRow) and rows[0].line == 2
    rejected = rows[1]
    assert isinstance(rejected, Rejection)
    assert rejected.line == 3
    assert rejected.reason_zh.startswith("编码错误")
    assert "不是 UTF-8" in rejected.reason_zh
    # Shown decoded the way it was written, so staff can see which row it is.
    assert rejected.original == ["李四", ID_B, "平遥县"]
    assert rows[2] == RawRow(4, {"姓名": "王五", "身份证号": ID_B, "户籍所在县": "古交市"}, ["王五", ID_B, "古交市"])
    assert not any("\ufffd" in cell for row in rows for cell in row.original)


def test_utf8_row_inside_gbk_file_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed-gbk.csv",
        f"{HEADER}\n张三,{ID_A},小店区\n郭晋生,{ID_A},平遥县\n".encode("gbk"),
        f"李四,{ID_B},平遥县\n".encode(),
    )
    rows = rows_of(path)
    assert [type(row) for row in rows] == [RawRow, RawRow, Rejection]
    rejected = rows[2]
    assert isinstance(rejected, Rejection)
    assert rejected.line == 4
    assert "编码错误：本行是 UTF-8 编码" in rejected.reason_zh
    assert rejected.original == ["李四", ID_B, "平遥县"]


def test_bytes_no_encoding_can_read_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path / "broken.csv", f"{HEADER}\n".encode("gbk"), b"\xff\xfe\xff,1,2\n", "张三,1,2\n".encode("gbk")
    )
    rows = rows_of(path)
    assert isinstance(rows[0], Rejection)
    assert rows[0].line == 2
    assert "编码错误" in rows[0].reason_zh
    assert rows[0].original[0] == "\\xff\\xfe\\xff"
    assert rows[1] == RawRow(3, {"姓名": "张三", "身份证号": "1", "户籍所在县": "2"}, ["张三", "1", "2"])


def test_quoted_cells_may_hold_commas_and_line_breaks(tmp_path: Path) -> None:
    text = f'{HEADER},备注\n张三,{ID_A},小店区,"第一行,\n第二行"\n李四,{ID_B},平遥县,"说""好"""\n'
    rows = rows_of(write(tmp_path / "q.csv", text.encode()))
    assert rows[0] == RawRow(
        2,
        {"姓名": "张三", "身份证号": ID_A, "户籍所在县": "小店区", "备注": "第一行,\n第二行"},
        ["张三", ID_A, "小店区", "第一行,\n第二行"],
    )
    # The quoted line break used line 3, so the next record starts on line 4.
    assert isinstance(rows[1], RawRow)
    assert rows[1].line == 4
    assert rows[1].values["备注"] == '说"好"'


def test_an_unclosed_quote_rejects_one_line_not_the_rest_of_the_file(tmp_path: Path) -> None:
    lines = [f"{HEADER}", f'"张三,{ID_A},小店区'] + [f"人{i},{ID_B},平遥县" for i in range(150)]
    rows = rows_of(write(tmp_path / "unclosed.csv", ("\n".join(lines) + "\n").encode()))
    assert isinstance(rows[0], Rejection)
    assert rows[0].line == 2
    assert rows[0].reason_zh.startswith("引号不配对")
    assert len(rows) == 151
    assert all(isinstance(row, RawRow) for row in rows[1:])
    assert [row.line for row in rows[1:3]] == [3, 4]


def test_quote_inside_an_unquoted_cell_is_literal(tmp_path: Path) -> None:
    rows = rows_of(write(tmp_path / "lit.csv", f'{HEADER}\n张"三,{ID_A},小店区\n李四,{ID_B},平遥县\n'.encode()))
    assert [row.original for row in rows] == [['张"三', ID_A, "小店区"], ["李四", ID_B, "平遥县"]]


def test_blank_rows_are_skipped_and_counted_not_rejected(tmp_path: Path) -> None:
    text = f"\n{HEADER}\n张三,{ID_A},小店区\n\n , ,\n李四,{ID_B},平遥县\n,,\n,,\n\n"
    with open_table(write(tmp_path / "blank.csv", text.encode())) as table:
        rows = list(table.rows())
        assert table.blank_rows == 6
    assert [(type(row), row.line) for row in rows] == [(RawRow, 3), (RawRow, 6)]


def test_cells_beyond_the_header_reject_the_row(tmp_path: Path) -> None:
    text = f"{HEADER}\n张三,{ID_A},小店区,,\n李,四,{ID_B},平遥县\n王五,{ID_B}\n"
    rows = rows_of(write(tmp_path / "wide.csv", text.encode()))
    # Empty trailing cells are what Excel writes for formatted columns: harmless, kept verbatim.
    assert rows[0] == RawRow(
        2, {"姓名": "张三", "身份证号": ID_A, "户籍所在县": "小店区"}, ["张三", ID_A, "小店区", "", ""]
    )
    assert isinstance(rows[1], Rejection)
    assert rows[1].original == ["李", "四", ID_B, "平遥县"]
    assert "列数超出表头" in rows[1].reason_zh and "逗号" in rows[1].reason_zh
    # A short row reads as empty cells on the right; validation decides whether they were needed.
    assert rows[2] == RawRow(4, {"姓名": "王五", "身份证号": ID_B, "户籍所在县": ""}, ["王五", ID_B])


def test_tab_separated_text(tmp_path: Path) -> None:
    rows = rows_of(write(tmp_path / "tabs.txt", f"姓名\t身份证号\n张三\t{ID_A}\n".encode()))
    assert rows == [RawRow(2, {"姓名": "张三", "身份证号": ID_A}, ["张三", ID_A])]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("u16.csv", "姓名,身份证号\n".encode("utf-16"), "UTF-16"),
        ("old.xls", b"\xd0\xcf\x11\xe0" + bytes(100), ".xls"),
        ("empty.csv", b"\n\n,,\n", "没有任何数据"),
        ("fake.xlsx", b"not a zip file", "无法打开 Excel 文件"),
    ],
)
def test_unreadable_files_raise_read_error(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    with pytest.raises(ReadError, match=message):
        open_table(write(tmp_path / name, content))


def test_missing_file_raises_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="找不到文件"):
        open_table(tmp_path / "nope.csv")


def test_rows_can_be_iterated_only_once(tmp_path: Path) -> None:
    with open_table(write(tmp_path / "a.csv", f"{HEADER}\n张三,{ID_A},小店区\n".encode())) as table:
        assert len(list(table.rows())) == 1
        with pytest.raises(RuntimeError):
            list(table.rows())
