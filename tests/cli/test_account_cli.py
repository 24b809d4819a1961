"""``bangfu user add|list`` and ``bangfu audit verify`` through Typer's CliRunner, on a SQLite file.

The commands only resolve the database and print; both back ends are covered below them, in
tests/store/test_accounts.py and tests/store/test_audit_log.py.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from typer.testing import CliRunner, Result

from bangfu.accounts import passwords
from bangfu.accounts.sessions import authenticate
from bangfu.cli import app
from bangfu.store.db import make_engine, make_sessionmaker, unit_of_work

PASSWORD = "兴县就业帮扶工作2024"


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def one_line(text: str) -> str:
    return "".join(text.split())  # the console wraps long lines


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture(scope="module")
def initialized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "bangfu.db"
    result = invoke("init", "--database", f"sqlite:///{path.as_posix()}")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def database(initialized: Path, tmp_path: Path) -> str:
    """A copy of the initialized database for this test alone."""
    path = tmp_path / "bangfu.db"
    shutil.copyfile(initialized, path)
    return f"sqlite:///{path.as_posix()}"


def add(database: str, *args: str, password: str = PASSWORD) -> Result:
    return invoke("user", "add", *args, "--password-stdin", "--database", database, stdin=password + "\n")


def accounts(database: str) -> list[dict[str, Any]]:
    result = invoke("user", "list", "--json", "--database", database)
    assert result.exit_code == 0, result.output
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


def audit(database: str) -> dict[str, Any]:
    result = invoke("audit", "verify", "--json", "--database", database)
    payload: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == (0 if payload["ok"] else 1)
    return payload


def test_user_add_creates_the_account(database: str) -> None:
    result = add(database, "zhang.san", "--role", "county", "--region", "141123", "--display-name", "张三")
    assert result.exit_code == 0, result.output
    shown = "已新建账户 zhang.san（张三）：角色 县级工作人员，地区 兴县（141123），不可查看未脱敏信息"
    assert one_line(shown) in one_line(result.stdout)
    [listed] = accounts(database)
    assert {k: listed[k] for k in ("username", "display_name", "role", "role_label", "region_code")} == {
        "username": "zhang.san",
        "display_name": "张三",
        "role": "county",
        "role_label": "县级工作人员",
        "region_code": "141123",
    }
    assert (listed["can_unmask"], listed["active"]) == (False, True)
    assert audit(database)["entries"] == 1


def test_user_add_normalizes_province_and_city_codes(database: str) -> None:
    assert add(database, "province.admin", "--role", "province", "--region", "140000").exit_code == 0
    result = add(database, "taiyuan.staff", "--role", "city", "--region", "140100", "--can-unmask")
    assert result.exit_code == 0, result.output
    assert "可查看未脱敏信息" in result.stdout and "不可" not in result.stdout
    assert [(a["region_code"], a["can_unmask"]) for a in accounts(database)] == [("14", False), ("1401", True)]


def test_password_is_the_first_line_without_its_line_ending(database: str) -> None:
    result = invoke(
        "user", "add", "zhang.san", "--role", "county", "--region", "141123", "--password-stdin",
        "--database", database, stdin=PASSWORD + "\r\nsecond line ignored\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    engine = make_engine(database)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            assert authenticate(session, "zhang.san", PASSWORD, "127.0.0.1").username == "zhang.san"
    finally:
        engine.dispose()


def test_user_list_never_shows_hashes(database: str) -> None:
    add(database, "zhang.san", "--role", "county", "--region", "141123")
    for args in (("--json",), ()):
        result = invoke("user", "list", *args, "--database", database)
        assert result.exit_code == 0, result.output
        assert "zhang.san" in result.stdout
        assert "argon2" not in result.stdout and "hash" not in result.stdout and PASSWORD not in result.stdout


def test_user_list_of_no_accounts_says_how_to_add_one(database: str) -> None:
    result = invoke("user", "list", "--database", database)
    assert result.exit_code == 0
    assert "尚无账户：可用 bangfu user add" in result.stdout


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("--role", "admin", "--region", "141123"), PASSWORD, "角色“admin”不存在：应为 province（省级管理员）"),
        (("--role", "county", "--region", "999999"), PASSWORD, "地区代码“999999”不在登记库的行政区划中"),
        (("--role", "county", "--region", "140100"), PASSWORD, "须对应县级地区，而 1401（太原市）是市级"),
        (("--role", "county", "--region", "141123"), "short", "口令至少需要 12 个字符，现在只有 5 个"),
        (("--role", "county", "--region", "141123"), "", "口令至少需要 12 个字符，现在只有 0 个"),
        (("--role", "county", "--region", "141123"), "123456789012", "口令不能全是数字"),
        (("--role", "county", "--region", "141123"), "bangfu-demo-2024", "公开的演示口令"),
        (("--role", "county", "--region", "141123"), "woaini1314520", "最常见的口令"),
        (("--role", "auditor", "--region", "1411", "--can-unmask"), PASSWORD, "审计账号不能查看未脱敏的个人信息"),
    ],
)
def test_user_add_refusals_exit_2_and_write_nothing(
    database: str, args: tuple[str, ...], password: str, message: str
) -> None:
    result = add(database, "wang.wu", *args, password=password)
    assert result.exit_code == 2, result.output
    assert one_line(message) in one_line(result.stderr)
    assert accounts(database) == []
    assert audit(database)["entries"] == 0


def test_duplicate_username_exits_2(database: str) -> None:
    assert add(database, "zhang.san", "--role", "county", "--region", "141123").exit_code == 0
    result = add(database, "Zhang.San", "--role", "county", "--region", "141123")
    assert result.exit_code == 2
    assert "用户名“Zhang.San”已被使用" in one_line(result.stderr)
    assert len(accounts(database)) == 1 and audit(database)["entries"] == 1


def test_user_add_requires_password_stdin(database: str) -> None:
    result = invoke(
        "user", "add", "zhang.san", "--role", "county", "--region", "141123", "--database", database, stdin=PASSWORD
    )
    assert result.exit_code == 2
    assert "请加--password-stdin" in one_line(result.stderr)
    assert "命令行会留在shell历史" in one_line(result.stderr)
    assert accounts(database) == []


def test_missing_database_file_exits_2(tmp_path: Path) -> None:
    missing = f"sqlite:///{(tmp_path / 'none.db').as_posix()}"
    result = invoke("user", "list", "--database", missing)
    assert result.exit_code == 2
    assert "不存在" in result.stderr and "bangfu init" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_audit_verify_intact_log(database: str) -> None:
    for name in ("zhang.san", "li.si.01", "wang.wu"):
        assert add(database, name, "--role", "county", "--region", "141123").exit_code == 0
    result = invoke("audit", "verify", "--database", database)
    assert result.exit_code == 0
    assert "审计日志完好：已核对3条记录，链头哈希" in one_line(result.stdout)
    payload = audit(database)
    assert (payload["ok"], payload["entries"], payload["problems"]) == (True, 3, [])
    assert len(payload["head_hash"]) == 64 and payload["head_hash"] in result.stdout


def test_audit_verify_exits_1_after_tampering(database: str) -> None:
    for name in ("zhang.san", "li.si.01", "wang.wu"):
        assert add(database, name, "--role", "county", "--region", "141123").exit_code == 0
    with sqlite3.connect(database.removeprefix("sqlite:///")) as raw:
        raw.execute("DROP TRIGGER audit_log_no_update")
        raw.execute("UPDATE audit_log SET after = replace(after, 'county', 'province') WHERE id = 2")
    raw.close()
    result = invoke("audit", "verify", "--database", database)
    assert result.exit_code == 1
    assert "审计日志已被改动" in result.stderr
    assert "第 2 条记录的内容与其哈希不符（记录被修改）" in result.stderr
    payload = audit(database)
    assert payload["ok"] is False and payload["problems"] == ["第 2 条记录的内容与其哈希不符（记录被修改）"]


def change(database: str, *args: str, stdin: str | None = None) -> Result:
    return invoke("user", *args, "--database", database, stdin=stdin)


def signs_in(database: str, username: str, password: str) -> bool:
    from bangfu.accounts.sessions import LoginFailed

    engine = make_engine(database)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            try:
                authenticate(session, username, password, "127.0.0.1")
            except LoginFailed:
                return False
            return True
    finally:
        engine.dispose()


def test_disable_enable_passwd_and_revoke_change_the_account_and_are_audited(database: str) -> None:
    assert add(database, "zhang.san", "--role", "county", "--region", "141123").exit_code == 0
    disabled = change(database, "disable", "zhang.san")
    assert disabled.exit_code == 0 and "已停用账户 zhang.san" in disabled.stdout
    assert not signs_in(database, "zhang.san", PASSWORD)
    assert accounts(database)[0]["active"] is False
    again = change(database, "disable", "zhang.san")
    assert again.exit_code == 2 and "已经是停用状态" in one_line(again.stderr)
    assert change(database, "enable", "zhang.san").exit_code == 0
    assert signs_in(database, "zhang.san", PASSWORD)
    temporary = "临时口令要足够长才行啊呀\n"
    reset = change(database, "passwd", "zhang.san", "--password-stdin", "--temporary", stdin=temporary)
    assert reset.exit_code == 0, reset.output
    assert "临时口令" in reset.stdout
    [listed] = accounts(database)
    assert listed["must_change_password"] is True and listed["second_factor"] is False
    assert "须改口令" in invoke("user", "list", "--database", database).stdout
    revoked = change(database, "revoke-tokens", "zhang.san")
    assert revoked.exit_code == 0 and "个网页会话与 API 令牌" in revoked.stdout
    totp = change(database, "totp-reset", "zhang.san")
    assert totp.exit_code == 2 and "没有启用两步验证" in one_line(totp.stderr)
    payload = audit(database)
    assert payload["ok"] and payload["entries"] >= 6


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("disable", "nobody"), None, "没有用户名为“nobody”的账户"),
        (("passwd", "zhang.san"), None, "请加--password-stdin"),
        (("passwd", "zhang.san", "--password-stdin"), "bangfu-demo-2024\n", "公开的演示口令"),
        (("revoke-tokens", "nobody"), None, "没有用户名为“nobody”的账户"),
    ],
)
def test_account_changes_refuse_bad_input_with_exit_2(
    database: str, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    add(database, "zhang.san", "--role", "county", "--region", "141123")
    before = audit(database)["entries"]
    result = change(database, *args, stdin=stdin)
    assert result.exit_code == 2
    assert one_line(message) in one_line(result.stderr)
    assert audit(database)["entries"] == before
