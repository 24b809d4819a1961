"""``bangfu init`` and ``bangfu id check`` through Typer's CliRunner."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from store_support import Migrated
from typer.testing import CliRunner, Result

from bangfu.cli import app
from bangfu.core.citizen_id import check_digit
from bangfu.store.db import make_engine
from bangfu.store.migrate import head_revision


def invoke(*args: str, env: dict[str, str | None] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


def with_check_digit(first17: str) -> str:
    return first17 + check_digit(first17)


# ---------------------------------------------------------------- init


def test_init_twice_on_both_back_ends(migrated: Migrated) -> None:
    url = make_url(migrated.url)
    if migrated.backend == "postgresql":
        # Trust authentication ignores the password, so it can be given just to see it masked.
        url = url.set(password="s3cret")
    plain = url.render_as_string(hide_password=False)
    for _ in range(2):
        result = invoke("init", "--database", plain)
        assert result.exit_code == 0, result.output
        assert "行政区划：1,515 个（本次新增 0 个，更新 0 个）" in result.stdout
        assert f"结构版本：{head_revision()}（最新）" in result.stdout
    assert "s3cret" not in result.stdout
    assert url.render_as_string(hide_password=True) in result.stdout


def test_init_from_environment_then_again(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'county' / 'bangfu.db').as_posix()}"
    first = invoke("init", env={"BANGFU_DATABASE_URL": url})
    assert first.exit_code == 0, first.output
    assert "本次新增 1,515 个" in first.stdout
    second = invoke("init", env={"BANGFU_DATABASE_URL": url})
    assert second.exit_code == 0, second.output
    assert "本次新增 0 个" in second.stdout


def test_init_default_is_var_under_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("init", env={"BANGFU_DATABASE_URL": None, "BANGFU_DATA_DIR": None})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "bangfu.db").is_file()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "--database 的值不是有效的数据库地址，应如 sqlite:///"),
        ("nosuchdb://x/y", "--database 的数据库地址 nosuchdb://x/y 无法使用"),
    ],
    ids=["not a URL", "unknown dialect"],
)
def test_init_bad_url(url: str, expected: str) -> None:
    result = invoke("init", "--database", url)
    assert result.exit_code == 2
    assert expected in " ".join(result.stderr.split())


def test_init_unwritable_sqlite_names_the_database(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = invoke("init", "--database", f"sqlite:///{(blocker / 'bangfu.db').as_posix()}")
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())  # the console wraps long lines
    assert f"创建目录 {blocker}（" in message
    assert "请换一个可写的路径" in message


def test_init_on_a_database_from_a_newer_version(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"
    assert invoke("init", "--database", url).exit_code == 0
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    result = invoke("init", "--database", url)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "结构版本无法迁移" in message
    assert f"本版最新结构版本为 {head_revision()}" in message


# ---------------------------------------------------------------- id check

CASES = {
    "valid": ("11010519491231002X", True),
    "bad check digit": ("110105194912310025", False),
    "lower-case x": ("11010519491231002x", True),
    "full-width digits": ("１１０１０５１９４９１２３１００２Ｘ", True),
    "15 digits": ("110105491231002", True),
    "historic Shanxi code": (with_check_digit("14040219800101123"), True),
    "current Shanxi county": (with_check_digit("14112319800101124"), True),
    "other province": (with_check_digit("44030519900101123"), True),
    "future birth date": (with_check_digit(f"141123{dt.date.today() + dt.timedelta(days=400):%Y%m%d}123"), False),
}


@pytest.fixture(scope="module")
def reports() -> dict[str, Any]:
    result = invoke("id", "check", *(number for number, _ in CASES.values()))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(CASES)
    return {name: json.loads(line) for name, line in zip(CASES, lines, strict=True)}


def test_id_check_fields_and_validity(reports: dict[str, Any]) -> None:
    fields = ["id", "valid", "reason", "region", "region_name", "historic", "birth_year", "sex"]
    for name, (_, valid) in CASES.items():
        assert list(reports[name]) == fields
        assert reports[name]["valid"] is valid, name
        assert (reports[name]["reason"] is None) is valid, name


def test_id_check_masks_the_number(reports: dict[str, Any]) -> None:
    assert reports["valid"]["id"] == reports["lower-case x"]["id"] == "1101************2X"
    assert reports["full-width digits"]["id"] == reports["15 digits"]["id"] == "1101************2X"
    assert reports["bad check digit"]["id"] == "1101************25"


def test_id_check_decodes_a_valid_number(reports: dict[str, Any]) -> None:
    assert reports["valid"] | {"id": None} == {
        "id": None,
        "valid": True,
        "reason": None,
        "region": "110105",
        "region_name": "北京市",
        "historic": None,
        "birth_year": 1949,
        "sex": "female",
    }


def test_id_check_regions(reports: dict[str, Any]) -> None:
    historic = reports["historic Shanxi code"]
    assert (historic["region"], historic["region_name"], historic["historic"]) == ("140402", "山西省（历史代码）", True)
    current = reports["current Shanxi county"]
    assert (current["region_name"], current["historic"], current["sex"]) == ("山西省吕梁市兴县", False, "female")
    assert (reports["other province"]["region_name"], reports["other province"]["historic"]) == ("广东省", None)


def test_id_check_reasons(reports: dict[str, Any]) -> None:
    assert reports["bad check digit"]["reason"] == "校验位错误：应为 X，实为 5，请核对身份证号"
    assert "晚于今天" in reports["future birth date"]["reason"]
    assert reports["future birth date"]["birth_year"] is None


def test_id_check_reads_standard_input() -> None:
    result = invoke("id", "check", "-", stdin="11010519491231002X\n\n  110105194912310025  \n")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["valid"] for line in result.stdout.splitlines()] == [True, False]
