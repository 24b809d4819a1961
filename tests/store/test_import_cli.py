"""``bangfu import`` end to end through Typer's CliRunner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from import_db_support import PEOPLE_HEADER, count, make_id, person_row, rejects_rows, write_csv, write_xlsx
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner, Result

from bangfu.cli import app
from bangfu.registry.imports.upsert import base
from bangfu.store.tables import Person

A = make_id("141123", "19800101", "123")
B = make_id("141124", "19850505", "246")


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def one_line(text: str) -> str:
    return "".join(text.split())


def import_json(engine: Engine, kind: str, path: Path, *extra: str) -> dict[str, Any]:
    result = invoke("import", kind, str(path), "--json", "--database", url_of(engine), *extra)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_gbk_csv_end_to_end_with_json(registry: Engine, tmp_path: Path) -> None:
    rows = [
        person_row(A, "张三", "兴县"),
        person_row(B, "李四", "临县", "边缘易致贫户"),
        ["王五", "123", "兴县", "", "", ""],
    ]
    source = write_csv(tmp_path / "人员（GBK）.csv", PEOPLE_HEADER, rows, encoding="gbk")
    first = import_json(registry, "people", source, "--rejects-dir", str(tmp_path / "out"))
    assert list(first) == ["inserted", "updated", "unchanged", "rejected", "rejects_file", "absent", "absent_file"]
    assert (first["inserted"], first["updated"], first["unchanged"], first["rejected"]) == (2, 0, 0, 1)
    rejects = Path(first["rejects_file"])
    assert rejects.parent == tmp_path / "out" and rejects.name.startswith("人员（GBK）_拒绝_")
    written = rejects_rows(rejects)
    assert written[1][:2] == [
        "4",
        "身份证号有误：长度错误：应为 18 位（或 15 位旧号），实为 3 位，请核对身份证号；人员类别为空；"
        "劳动能力“（空）”无法识别，可填：技能劳动力、普通劳动力、弱劳动力或半劳动力、丧失劳动力、无劳动力（旧写法全劳力、弱劳力、半劳力也可）",
    ]
    assert written[1][2:] == ["王五", "123", "兴县", "", "", ""]  # as the file had them, decoded from GBK

    second = import_json(registry, "people", source, "--rejects-dir", str(tmp_path / "out"))
    assert (second["inserted"], second["unchanged"], second["rejected"]) == (0, 2, 1)
    assert count(registry, Person) == 2


def test_xlsx_end_to_end_with_json(registry: Engine, tmp_path: Path) -> None:
    source = write_xlsx(tmp_path / "people.xlsx", PEOPLE_HEADER, [person_row(A), person_row(B, "李四")])
    payload = import_json(registry, "people", source)
    assert payload == {
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "rejects_file": None,
        "absent": 0,
        "absent_file": None,
    }
    training = write_xlsx(
        tmp_path / "training.xlsx",
        ["身份证号", "培训机构", "培训项目", "开始日期", "天数"],
        [
            [A, "兴县职业培训学校", "电工", "2024-04-01", 10],
            [make_id("140105"), "兴县职业培训学校", "电工", "2024-04-01", 5],
        ],
    )
    payload = import_json(registry, "training", training)
    assert (payload["inserted"], payload["rejected"]) == (1, 1)
    assert rejects_rows(Path(payload["rejects_file"]))[1][1] == "未找到该身份证号的人员，请先导入人员"


def test_plain_summary_in_chinese(registry: Engine, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", PEOPLE_HEADER, [person_row(A), person_row(A)])
    result = invoke("import", "people", str(source), "--database", url_of(registry))
    assert result.exit_code == 0, result.output
    text = one_line(result.stdout)
    assert "人员表格a.csv，UTF-8：共2行" in text
    assert "新增1行，更新0行，未变0行，拒绝1行" in text
    assert "被拒绝的行及原因已写入：" in text and "改正后可直接再次导入" in text


def test_wrong_header_exits_2_listing_the_expected_columns(registry: Engine, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", ["姓名", "身份证"], [["张三", A]])
    result = invoke("import", "people", str(source), "--database", url_of(registry))
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert "缺少必需的列：户籍所在县、人员类别、劳动能力、联系电话" in message
    assert "身份证号（也可写作：身份证号码、公民身份号码、身份证、证件号码）——必需" in message
    assert count(registry, Person) == 0


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0" + bytes(60), "是旧版Excel（.xls）文件"),
        ("utf16.csv", "姓名,身份证号\n".encode("utf-16"), "UTF-16"),
        ("empty.csv", b"", "没有任何数据"),
    ],
    ids=["xls", "utf-16", "empty"],
)
def test_unreadable_file_exits_2(registry: Engine, tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    result = invoke("import", "people", str(source), "--database", url_of(registry))
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert expected in message
    assert "人员表格应有的列" in message and "户籍所在县（也可写作" in message


def test_missing_file_exits_2(registry: Engine, tmp_path: Path) -> None:
    result = invoke("import", "people", str(tmp_path / "none.csv"), "--database", url_of(registry))
    assert result.exit_code == 2
    assert "找不到导入文件" in one_line(result.stderr)


def test_uninitialised_database_exits_2(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "a.csv", PEOPLE_HEADER, [person_row(A)])
    (tmp_path / "empty.db").touch()
    result = invoke("import", "people", str(source), "--database", f"sqlite:///{tmp_path}/empty.db")
    assert result.exit_code == 2
    assert "尚未初始化：请先运行bangfuinit" in one_line(result.stderr)
    missing = invoke("import", "people", str(source), "--database", f"sqlite:///{tmp_path}/none.db")
    assert missing.exit_code == 2
    assert "不存在" in one_line(missing.stderr) and "请先运行bangfuinit" in one_line(missing.stderr)
    assert not (tmp_path / "none.db").exists()


def test_a_database_failure_exits_2_and_writes_nothing(
    registry: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any) -> None:
        raise OperationalError("COPY …", None, Exception("could not extend file (simulated)"))

    monkeypatch.setattr(base, "insert_rows", crash)  # only the crash is simulated
    source = write_csv(tmp_path / "a.csv", PEOPLE_HEADER, [person_row(A), ["x", "1", "", "", "", ""]])
    result = invoke("import", "people", str(source), "--database", url_of(registry))
    assert result.exit_code == 2
    message = one_line(result.stderr)
    assert "本次导入没有写入任何数据" in message and "simulated" in message
    assert count(registry, Person) == 0
    assert list(tmp_path.glob("*拒绝*")) == []


def _hostile_file(tmp_path: Path, case: str) -> tuple[Path, str]:
    """The findings' hostile files, small: each with valid rows first, so that a partial import would show."""
    from hostile_files import ENTITY_BOMB, inline_row, shared_strings_xml, sheet_xml, write_xlsx_parts

    header = inline_row(1, PEOPLE_HEADER)
    good = "".join(inline_row(n, person_row(make_id("141123", "19800101", f"{n:03d}"))) for n in range(2, 6))
    if case == "entity bomb":
        sheet = sheet_xml(header + good, ENTITY_BOMB)
        return write_xlsx_parts(tmp_path / "lol.xlsx", sheet), "XML实体声明"
    if case == "bad shared-string index":
        sheet = sheet_xml(header + good + '<row r="6"><c r="A6" t="s"><v>42</v></c></row>')
        return write_xlsx_parts(tmp_path / "index.xlsx", sheet, shared_strings_xml(["张三"])), "共享文本"
    if case == "truncated zip":
        whole = write_xlsx_parts(tmp_path / "whole.xlsx", sheet_xml(header + good)).read_bytes()
        cut = tmp_path / "cut.xlsx"
        cut.write_bytes(whole[: len(whole) * 2 // 3])
        return cut, "已损坏或不完整"
    if case == "header without newline":
        endless = tmp_path / "endless.csv"
        endless.write_bytes(b"x," * (600 * 1024))
        return endless, "仍没有换行"
    rows = [person_row(make_id("141123", "19800101", f"{n:03d}")) for n in range(2, 6)]
    rows.append(["张三", "1" * 40_000, "兴县", "脱贫人口", "全劳力", ""])
    return write_csv(tmp_path / "cell.csv", PEOPLE_HEADER, rows), "40,000个字符"


@pytest.mark.parametrize(
    "case", ["entity bomb", "bad shared-string index", "truncated zip", "header without newline", "giant cell"]
)
def test_hostile_files_exit_2_and_write_nothing(
    registry: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.setenv("BANGFU_IMPORT_MAX_LINE_BYTES", str(512 * 1024))
    source, reason = _hostile_file(tmp_path, case)
    out = tmp_path / "out"
    result = invoke("import", "people", str(source), "--database", url_of(registry), "--rejects-dir", str(out))
    assert result.exit_code == 2, result.output
    message = one_line(result.output)
    assert message.startswith("错误：拒绝导入") and reason in message and "本次导入没有写入任何数据" in message
    assert "Traceback" not in result.output and "应有的列" not in message
    assert count(registry, Person) == 0
    assert not out.exists() or not list(out.iterdir())


def test_a_limit_passed_in_the_reading_worker_refuses_the_file(
    registry: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bangfu.registry.imports.importer import import_file
    from bangfu.registry.imports.rows import ReadError

    # Refused rows first (a rejects file is started), then more rows than the limit allows.
    rows = [["王五", "123", "兴县", "", "", ""]] + [
        person_row(make_id("141123", "19800101", f"{n:03d}")) for n in range(10)
    ]
    source = write_csv(tmp_path / "many.csv", PEOPLE_HEADER, rows)
    monkeypatch.setenv("BANGFU_IMPORT_MAX_ROWS", "5")  # the worker process inherits the environment
    with pytest.raises(ReadError, match="数据超过 5 行"):
        import_file(registry, "people", source, tmp_path / "out", worker=True)
    assert count(registry, Person) == 0
    assert not list((tmp_path / "out").iterdir())


def test_rejects_file_is_private_and_a_planted_symlink_is_never_followed(registry: Engine, tmp_path: Path) -> None:
    import datetime as dt
    import stat

    source = write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [person_row(A), ["王五", "123", "兴县", "", "", ""]])
    out = tmp_path / "out"
    first = import_json(registry, "people", source, "--rejects-dir", str(out))
    assert stat.S_IMODE(Path(first["rejects_file"]).stat().st_mode) == 0o600

    # Links, pointing nowhere yet, at the names the next rejects files will take (one per second).
    stolen = tmp_path / "elsewhere" / "stolen.csv"
    stolen.parent.mkdir()
    shared = tmp_path / "shared"
    shared.mkdir()
    now = dt.datetime.now()
    for second in range(-1, 30):
        stamp = (now + dt.timedelta(seconds=second)).strftime("%Y%m%d-%H%M%S")
        (shared / f"people_拒绝_{stamp}.csv").symlink_to(stolen)
    result = invoke("import", "people", str(source), "--database", url_of(registry), "--rejects-dir", str(shared))
    assert result.exit_code == 2, result.output
    assert "符号链接" in one_line(result.output) and "本次导入没有写入任何数据" in one_line(result.output)
    assert not stolen.exists()
    assert count(registry, Person) == 1  # the first import only
