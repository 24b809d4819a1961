from __future__ import annotations

from pathlib import Path

import pytest

from bangfu.settings import Settings, SettingsError


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


def test_production_mode_and_totp_requirement_come_from_the_environment() -> None:
    plain = Settings.from_env({})
    assert (plain.production, plain.require_totp_for_unmask) == (False, False)
    strict = Settings.from_env({"BANGFU_ENV": " Production ", "BANGFU_REQUIRE_TOTP_FOR_UNMASK": "1"})
    assert (strict.production, strict.require_totp_for_unmask) == (True, True)
    other = Settings.from_env({"BANGFU_ENV": "staging", "BANGFU_REQUIRE_TOTP_FOR_UNMASK": "0"})
    assert (other.production, other.require_totp_for_unmask) == (False, False)


def test_body_limits_from_the_environment() -> None:
    from bangfu.settings import BodyLimits

    limits = BodyLimits.from_env({"BANGFU_MAX_JSON_BODY_BYTES": "65536", "BANGFU_MAX_BODY_BYTES": ""})
    assert (limits.max_json_body_bytes, limits.max_body_bytes) == (65536, 1024 * 1024)
    with pytest.raises(ValueError, match=r"BANGFU_MAX_BODY_BYTES='lots' 无效：应为正整数"):
        BodyLimits.from_env({"BANGFU_MAX_BODY_BYTES": "lots"})


def test_public_https_is_a_yes_or_no() -> None:
    assert Settings.from_env({}).public_https is False
    assert Settings.from_env({"BANGFU_PUBLIC_HTTPS": "1"}).public_https is True
    assert Settings.from_env({"BANGFU_PUBLIC_HTTPS": " Yes "}).public_https is True
    assert Settings.from_env({"BANGFU_PUBLIC_HTTPS": "0"}).public_https is False
    with pytest.raises(ValueError, match="BANGFU_PUBLIC_HTTPS"):
        Settings.from_env({"BANGFU_PUBLIC_HTTPS": "https"})


def test_trusted_proxies_default_to_none(tmp_path: Path) -> None:
    assert Settings.from_env({}).trusted_proxies == ()


def test_trusted_proxies_are_addresses_and_networks() -> None:
    settings = Settings.from_env({"BANGFU_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1,"})
    assert [str(network) for network in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]


def test_a_bad_trusted_proxy_is_named_with_the_fix() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"BANGFU_TRUSTED_PROXIES": "127.0.0.1,proxy.example"})
    assert "BANGFU_TRUSTED_PROXIES" in str(raised.value) and "“proxy.example”" in str(raised.value)
    assert "10.0.0.0/8" in str(raised.value)  # how to write it


def test_the_default_posting_period_of_a_county_rule() -> None:
    assert Settings.from_env({}).claim_posting_days == 7
    assert Settings.from_env({"BANGFU_CLAIM_POSTING_DAYS": "10"}).claim_posting_days == 10
    with pytest.raises(SettingsError, match="BANGFU_CLAIM_POSTING_DAYS='七天' 无效：应为正整数（默认 7）"):
        Settings.from_env({"BANGFU_CLAIM_POSTING_DAYS": "七天"})
