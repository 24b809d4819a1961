"""The platform's commands: the main job `bangfu demo` (set-up only, with --no-serve) and `bangfu serve`'s refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bangfu.cli import app
from bangfu.cli.platform_cmds import DEMO_ACCOUNTS, DEMO_PASSWORD
from bangfu.web.app import create_app
from database_servers import settings_for


def test_demo_prepares_data_accounts_and_a_working_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGFU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BANGFU_DATABASE_URL", raising=False)
    first = CliRunner().invoke(app, ["demo", "--no-serve", "--persons", "400"])
    assert first.exit_code == 0, first.output
    for username, *_ in DEMO_ACCOUNTS:
        assert username in first.stdout
    assert DEMO_PASSWORD in first.stdout and "仅供演示" in first.stdout
    again = CliRunner().invoke(app, ["demo", "--no-serve", "--persons", "400"])
    assert again.exit_code == 0 and "沿用现有数据" in again.stdout  # rerunning keeps the data
    listed = CliRunner().invoke(app, ["user", "list", "--json"])
    assert {a["username"]: a["is_demo"] for a in json.loads(listed.stdout)} == dict.fromkeys(
        (username for username, *_ in DEMO_ACCOUNTS), True
    )
    platform = create_app(settings_for(f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"))
    try:
        with TestClient(platform) as client:
            persons = {}
            for username, *_ in DEMO_ACCOUNTS:
                answer = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
                assert answer.status_code == 200, username
                headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
                board = client.get("/api/v1/dashboard", headers=headers)
                assert board.status_code == 200
                persons[username] = board.json()["persons"]
            # The province sees the whole synthetic population; the county and the township a part of it.
            assert persons["sheng"] == persons["shenji"] == 400
            assert 0 <= persons["xiangzhen"] <= persons["xingxian"] < persons["lvliang"] < 400
    finally:
        platform.state.context.close()


def test_serve_refuses_a_missing_or_uninitialized_database(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["serve", "--database", f"sqlite:///{tmp_path}/none.db"])
    assert missing.exit_code == 2 and "bangfuinit" in "".join(missing.stderr.split())
    (tmp_path / "empty.db").touch()
    empty = CliRunner().invoke(app, ["serve", "--database", f"sqlite:///{tmp_path}/empty.db"])
    assert empty.exit_code == 2 and "尚未初始化" in "".join(empty.stderr.split())


def initialized(tmp_path: Path) -> str:
    url = f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"
    assert CliRunner().invoke(app, ["init", "--database", url]).exit_code == 0
    return url


def test_demo_refuses_a_database_with_a_real_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BANGFU_ENV", raising=False)
    url = initialized(tmp_path)
    added = CliRunner().invoke(
        app, ["user", "add", "zhang.san", "--role", "county", "--region", "141123", "--password-stdin",
              "--database", url], input="兴县就业帮扶工作2024\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    refused = CliRunner().invoke(app, ["demo", "--no-serve", "--persons", "100", "--database", url])
    assert refused.exit_code == 2
    said = "".join(refused.stderr.split())
    assert "非演示账户（如zhang.san）" in said and "请用一个新的数据库演示" in said
    listed = CliRunner().invoke(app, ["user", "list", "--json", "--database", url])
    assert [a["username"] for a in json.loads(listed.stdout)] == ["zhang.san"]  # nothing added


def test_demo_refuses_to_run_in_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGFU_ENV", "production")
    refused = CliRunner().invoke(app, ["demo", "--no-serve", "--database", f"sqlite:///{tmp_path}/x.db"])
    assert refused.exit_code == 2 and "生产环境" in refused.stderr
    assert not (tmp_path / "x.db").exists()


def test_serve_warns_about_demo_accounts_and_refuses_them_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bangfu.cli.database import opened, resolve
    from bangfu.cli.demo_guard import check_demo_accounts_before_serving
    from bangfu.cli.platform_cmds import ensure_demo_accounts

    url = initialized(tmp_path)
    monkeypatch.delenv("BANGFU_ENV", raising=False)
    target = resolve(url)
    with opened(target) as context:
        ensure_demo_accounts(context)
        check_demo_accounts_before_serving(target, context)  # warns, does not stop
    warning = "".join(capsys.readouterr().err.split())
    assert "警告：数据库中有演示账户sheng" in warning and "切勿在生产中使用" in warning
    monkeypatch.setenv("BANGFU_ENV", "production")
    refused = CliRunner().invoke(app, ["serve", "--database", url])
    assert refused.exit_code == 2
    assert "拒绝在生产环境" in "".join(refused.stderr.split())
    for username, *_ in DEMO_ACCOUNTS:
        assert CliRunner().invoke(app, ["user", "disable", username, "--database", url]).exit_code == 0
    with opened(target) as context:
        check_demo_accounts_before_serving(target, context)  # disabled demo accounts no longer count
    assert capsys.readouterr().err == ""


def test_serve_refuses_a_bad_trusted_proxy_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGFU_TRUSTED_PROXIES", "10.0.0.0/33")
    answer = CliRunner().invoke(app, ["serve", "--database", f"sqlite:///{(tmp_path / 'bangfu.db').as_posix()}"])
    assert answer.exit_code == 2
    assert "BANGFU_TRUSTED_PROXIES" in answer.output and "10.0.0.0/33" in answer.output
    assert not (tmp_path / "bangfu.db").exists()
