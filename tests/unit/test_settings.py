from __future__ import annotations

from pathlib import Path

import pytest

from bangfu.settings import Settings


def test_defaults_are_under_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.data_dir == tmp_path.resolve() / "var"
    assert settings.database_url == f"sqlite:///{(tmp_path.resolve() / 'var' / 'bangfu.db').as_posix()}"
    assert not (tmp_path / "var").exists()  # created on demand, when the database is first opened


def test_environment_overrides(tmp_path: Path) -> None:
    url = "postgresql+psycopg://bangfu@db.example:5432/bangfu"
    settings = Settings.from_env({"BANGFU_DATABASE_URL": url, "BANGFU_DATA_DIR": str(tmp_path / "data")})
    assert (settings.database_url, settings.data_dir) == (url, tmp_path / "data")


def test_sqlite_file_follows_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"BANGFU_DATA_DIR": str(tmp_path / "data")})
    assert settings.database_url == f"sqlite:///{(tmp_path / 'data' / 'bangfu.db').as_posix()}"


def test_empty_variables_count_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({"BANGFU_DATABASE_URL": "", "BANGFU_DATA_DIR": ""}) == Settings.from_env({})


def test_public_https_is_a_yes_or_no() -> None:
    assert Settings.from_env({}).public_https is False
    assert Settings.from_env({"BANGFU_PUBLIC_HTTPS": "1"}).public_https is True
    assert Settings.from_env({"BANGFU_PUBLIC_HTTPS": " Yes "}).public_https is True
    assert Settings.from_env({"BANGFU_PUBLIC_HTTPS": "0"}).public_https is False
    with pytest.raises(ValueError, match="BANGFU_PUBLIC_HTTPS"):
        Settings.from_env({"BANGFU_PUBLIC_HTTPS": "https"})
