"""Files that would exhaust the server, or are damaged or hostile, are refused whole with a clear reason.

Each limit is proved with a small file and a lowered limit (``BANGFU_IMPORT_MAX_*``), and where memory
is the risk the test measures that the refusal comes before the oversized part is held in memory.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from bangfu.registry.imports.reading import ReadError, open_table
from bangfu.settings import ImportLimits
from hostile_files import (
    ENTITY_BOMB,
    EXTERNAL_ENTITY,
    PEOPLE_LABELS,
    inline_row,
    shared_strings_xml,
    sheet_xml,
    write_xlsx_parts,
)

HEADER_ROW = inline_row(1, PEOPLE_LABELS)
ONE_PERSON = inline_row(2, ["张三", "141123198001011234", "兴县", "脱贫人口", "全劳力", ""])


def read_all(path: Path) -> list[object]:
    with open_table(path) as table:
        return list(table.rows())


def peak_bytes_of_refusal(path: Path, match: str) -> int:
    """Python memory at its highest while ``path`` is opened, read and refused with ``match``."""
    tracemalloc.start()
    try:
        with pytest.raises(ReadError, match=match):
            read_all(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_defaults_let_the_largest_real_files_through() -> None:
    limits = ImportLimits()
    assert limits.max_rows >= 12_600_000  # the 1 GB benchmark roster (docs/benchmarks.md)
    assert limits.max_cell_chars == 32_767  # Excel's own limit
    assert limits.max_line_bytes >= 1024 * 1024


def test_limits_are_read_from_the_environment() -> None:
    limits = ImportLimits.from_env({"BANGFU_IMPORT_MAX_ROWS": "1_000", "BANGFU_IMPORT_MAX_COLUMNS": ""})
    assert (limits.max_rows, limits.max_columns) == (1000, ImportLimits().max_columns)
    with pytest.raises(ValueError, match=r"BANGFU_IMPORT_MAX_ROWS.*正整数"):
        ImportLimits.from_env({"BANGFU_IMPORT_MAX_ROWS": "-5"})


# --- XLSX: the zip --------------------------------------------------------------------------------


def test_one_huge_shared_string_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    # The finding: 297 KB on disk, one shared string that unpacks to hundreds of MB, 2.7 GB of memory.
    # Here 8 MB of one letter (ratio ~1000) is refused from the zip's directory alone.
    bomb = write_xlsx_parts(
        tmp_path / "bomb.xlsx", sheet_xml(HEADER_ROW), shared_strings_xml(["A" * (8 * 1024 * 1024)])
    )
    assert bomb.stat().st_size < 64 * 1024
    peak = peak_bytes_of_refusal(bomb, r"sharedStrings\.xml 压缩比为 .* 倍.*BANGFU_IMPORT_MAX_XLSX_RATIO")
    assert peak < 1024 * 1024  # nothing of the 8 MB was unpacked


def test_unpacked_size_limits_per_member_and_in_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = HEADER_ROW + "".join(inline_row(n, [f"人{n}", "141123198001011234"]) for n in range(2, 400))
    path = write_xlsx_parts(tmp_path / "big.xlsx", sheet_xml(rows))
    sheet_size = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    monkeypatch.setenv("BANGFU_IMPORT_MAX_XLSX_MEMBER_BYTES", str(sheet_size - 1))
    with pytest.raises(ReadError, match=r"sheet1\.xml 解压后有 .* 字节.*BANGFU_IMPORT_MAX_XLSX_MEMBER_BYTES"):
        read_all(path)
    monkeypatch.delenv("BANGFU_IMPORT_MAX_XLSX_MEMBER_BYTES")
    monkeypatch.setenv("BANGFU_IMPORT_MAX_XLSX_BYTES", str(sheet_size))
    with pytest.raises(ReadError, match=r"解压后共有 .* 字节.*分成几个文件"):
        read_all(path)
    monkeypatch.delenv("BANGFU_IMPORT_MAX_XLSX_BYTES")
    assert len(read_all(path)) == 398


def test_a_truncated_xlsx_is_refused_as_damaged(tmp_path: Path) -> None:
    whole = write_xlsx_parts(tmp_path / "whole.xlsx", sheet_xml(HEADER_ROW + ONE_PERSON)).read_bytes()
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ReadError, match=r"无法打开 Excel 文件“cut.xlsx”：文件已损坏或不完整"):
        read_all(cut)


def test_a_corrupted_member_is_refused_as_damaged(tmp_path: Path) -> None:
    rows = HEADER_ROW + "".join(inline_row(n, [f"人{n}", "141123198001011234"]) for n in range(2, 200))
    path = write_xlsx_parts(tmp_path / "bad.xlsx", sheet_xml(rows))
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 16] = bytes(16)  # zeroes in the middle of the compressed sheet
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError, match=r"Excel 文件“bad.xlsx”.*(已损坏|无法解析)"):
        read_all(path)


# --- XLSX: the XML --------------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["sheet", "shared strings"])
def test_an_entity_bomb_is_refused(tmp_path: Path, part: str) -> None:
    if part == "sheet":
        path = write_xlsx_parts(tmp_path / "lol.xlsx", sheet_xml(HEADER_ROW.replace("姓名", "&ha3;"), ENTITY_BOMB))
    else:
        path = write_xlsx_parts(
            tmp_path / "lol.xlsx", sheet_xml(HEADER_ROW), shared_strings_xml(["&ha3;"], ENTITY_BOMB)
        )
    with pytest.raises(ReadError, match=r"XML 实体声明或外部引用.*为安全起见拒绝读取"):
        read_all(path)


def test_an_external_entity_is_never_resolved(tmp_path: Path) -> None:
    sheet = sheet_xml(HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    path = write_xlsx_parts(tmp_path / "xxe.xlsx", sheet, shared_strings_xml(["&xxe;"], EXTERNAL_ENTITY))
    with pytest.raises(ReadError, match=r"XML 实体声明或外部引用") as refused:
        read_all(path)
    assert "root:" not in str(refused.value)


def test_a_shared_string_index_past_the_table_names_its_row(tmp_path: Path) -> None:
    rows = HEADER_ROW + ONE_PERSON + '<row r="3"><c r="A3" t="s"><v>7</v></c></row>'
    path = write_xlsx_parts(tmp_path / "index.xlsx", sheet_xml(rows), shared_strings_xml(["张三"]))
    with pytest.raises(ReadError, match=r"“index.xlsx”第 3 行：单元格引用了文件中不存在的共享文本"):
        read_all(path)


# --- XLSX: the sheet ------------------------------------------------------------------------------


def test_a_value_in_column_xfd_is_refused_and_formatting_there_is_ignored(tmp_path: Path) -> None:
    # The finding: a million rows reaching column XFD ran for minutes (each row padded to 16,384 cells).
    formatted = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>人{n}</t></is></c><c r="XFD{n}" s="1"/></row>'
        for n in range(2, 2000)
    )
    path = write_xlsx_parts(tmp_path / "styled.xlsx", sheet_xml(HEADER_ROW + formatted))
    with open_table(path) as table:
        assert {len(row.original) for row in table.rows()} == {1}  # not 16,384
    valued = formatted.replace('<c r="XFD5" s="1"/>', '<c r="XFD5" t="inlineStr"><is><t>x</t></is></c>')
    path = write_xlsx_parts(tmp_path / "wide.xlsx", sheet_xml(HEADER_ROW + valued))
    with pytest.raises(ReadError, match=r"第 5 行第 16384 列（XFD 列）有内容.*BANGFU_IMPORT_MAX_COLUMNS"):
        read_all(path)


def test_a_row_number_past_the_limit_is_refused_without_counting_up_to_it(tmp_path: Path) -> None:
    path = write_xlsx_parts(tmp_path / "far.xlsx", sheet_xml(HEADER_ROW + inline_row(5_000_000, ["张三"])))
    with pytest.raises(ReadError, match=r"有第 5,000,000 行，超过上限 1,048,576 行"):
        read_all(path)


# --- CSV ------------------------------------------------------------------------------------------


def test_a_header_without_a_line_break_is_refused_after_reading_only_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The finding: a 50 MB header with no newline grew past 5.8 GB. Here 4 MB against a 64 KB limit.
    path = tmp_path / "endless.csv"
    path.write_bytes(b"a," * (2 * 1024 * 1024))
    monkeypatch.setenv("BANGFU_IMPORT_MAX_LINE_BYTES", str(64 * 1024))
    refusal = r"第 1 行过长（读到 65,536 字节仍没有换行），超过上限 65,536 字节.*BANGFU_IMPORT_MAX_LINE_BYTES"
    peak = peak_bytes_of_refusal(path, refusal)
    assert peak < 1024 * 1024


def test_a_giant_cell_is_refused_with_its_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cell.csv"
    path.write_text(",".join(PEOPLE_LABELS) + "\n张三," + "1" * 40_000 + ",兴县\n", encoding="utf-8")
    with pytest.raises(ReadError, match=r"第 2 行第 2 列（B 列）的单元格有 40,000 个字符，超过上限 32,767 个字符"):
        read_all(path)


def test_a_header_with_too_many_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "columns.csv"
    path.write_text(",".join(f"列{n}" for n in range(600)) + "\n", encoding="utf-8")
    with pytest.raises(ReadError, match=r"第 1 行有 600 列，超过上限 500 列"):
        read_all(path)


def test_rows_past_the_limit_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("姓名,身份证号\n" + "张三,1\n\n" * 5, encoding="utf-8")
    monkeypatch.setenv("BANGFU_IMPORT_MAX_ROWS", "5")
    assert len(read_all(path)) == 5  # blank lines do not count
    monkeypatch.setenv("BANGFU_IMPORT_MAX_ROWS", "4")
    with pytest.raises(ReadError, match=r"数据超过 4 行（读到第 10 行）.*BANGFU_IMPORT_MAX_ROWS"):
        read_all(path)
