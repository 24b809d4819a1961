"""Also seen: ``serve`` had no HTTPS. ``--tls-cert/--tls-key`` serve it, with Secure cookies and HSTS;
``--public-https`` (or BANGFU_PUBLIC_HTTPS=1) does the same behind a proxy that terminates TLS.

A self-signed certificate for 127.0.0.1 is made with the ``openssl`` command for the test.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from served import serving
from typer.testing import CliRunner
from web_support import PASSWORD, build_registry

from bangfu.cli import app as cli
from bangfu.web.app import app_from_environment

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="需要 openssl 命令生成自签名证书")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{(tmp_path_factory.mktemp('https') / 'b.db').as_posix()}"
    build_registry(url)
    return url


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _sign_in(client: httpx.Client) -> httpx.Response:
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"username": "province", "password": PASSWORD, "csrf_token": csrf})


def _secure_cookies(answer: httpx.Response) -> list[str]:
    return [value for name, value in answer.headers.multi_items() if name == "set-cookie"]


def test_serve_over_https_with_secure_cookies_and_hsts(database: str, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    trusted = ssl.create_default_context(cafile=str(cert))
    with (
        serving(database, "--tls-cert", str(cert), "--tls-key", str(key), scheme="https", verify=trusted) as (
            base,
            _,
        ),
        httpx.Client(base_url=base, verify=trusted) as client,
    ):
        form = client.get("/login")
        assert form.headers["strict-transport-security"].startswith("max-age=31536000")
        assert all("; secure" in c.lower() for c in _secure_cookies(form))
        signed_in = _sign_in(client)
        assert signed_in.status_code == 303
        session_cookie = next(c for c in _secure_cookies(signed_in) if c.startswith("bangfu_session="))
        assert "; secure" in session_cookie.lower() and "httponly" in session_cookie.lower()
        with pytest.raises(httpx.TransportError):  # plain HTTP gets nothing from an HTTPS port
            httpx.get(base.replace("https://", "http://") + "/login", timeout=5)


def test_behind_a_tls_proxy_cookies_are_secure_and_hsts_is_sent(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGFU_DATABASE_URL", database)
    monkeypatch.setenv("BANGFU_PUBLIC_HTTPS", "1")
    app = app_from_environment()
    with TestClient(app, base_url="https://testserver") as client:
        form = client.get("/login")
        assert "strict-transport-security" in form.headers
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post(
            "/login", data={"username": "province", "password": PASSWORD, "csrf_token": csrf}, follow_redirects=False
        )
        assert answer.status_code == 303
        assert all("; secure" in c.lower() for c in answer.headers.get_list("set-cookie"))
    app.state.context.close()


def test_plain_http_sends_no_hsts(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGFU_DATABASE_URL", database)
    monkeypatch.delenv("BANGFU_PUBLIC_HTTPS", raising=False)
    app = app_from_environment()
    with TestClient(app) as client:
        assert "strict-transport-security" not in client.get("/login").headers
    app.state.context.close()


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    yield CliRunner()


def test_missing_or_mismatched_tls_files_exit_2_in_chinese(
    runner: CliRunner, database: str, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    missing = runner.invoke(
        cli, ["serve", "--tls-cert", str(tmp_path / "none.pem"), "--tls-key", str(key), "--database", database]
    )
    assert missing.exit_code == 2 and "--tls-cert：无法读取" in missing.stderr
    alone = runner.invoke(cli, ["serve", "--tls-cert", str(cert), "--database", database])
    assert alone.exit_code == 2 and "须同时给出" in alone.stderr
    swapped = runner.invoke(cli, ["serve", "--tls-cert", str(key), "--tls-key", str(cert), "--database", database])
    assert swapped.exit_code == 2 and "不是匹配的PEM证书与私钥" in "".join(swapped.stderr.split())
