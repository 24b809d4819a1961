"""The platform on both back ends, over the registry of ``web_support``, for the web tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from live_server import Live, add_accounts, running_server
from web_support import ACCOUNTS, PASSWORD, Platform, build_registry

from bangfu.web.app import create_app
from database_servers import BACKENDS, postgres_database, settings_for


@pytest.fixture(scope="session", params=BACKENDS)
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(tmp_path_factory.mktemp('web') / 'bangfu.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    try:
        persons, organizations = build_registry(url)
        app = create_app(settings_for(url), checks_dir=tmp_path_factory.mktemp("checks"))
        with TestClient(app, base_url="http://testserver") as client:
            yield Platform(url, client, persons, organizations, {u: (role, region) for u, role, region, _ in ACCOUNTS})
        app.state.context.close()
    finally:
        if hasattr(databases, "close"):
            databases.close()


LIVE_ACCOUNTS = [f"load{n:02d}" for n in range(50)] + ["victim", "bystander", "parallel"]


@pytest.fixture(scope="session", params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live")
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(folder / 'bangfu.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    try:
        build_registry(url)
        add_accounts(url, LIVE_ACCOUNTS, PASSWORD)
        with running_server(url, folder / "serve.log", {"BANGFU_TRUSTED_PROXIES": "127.0.0.1"}) as base:
            yield Live(base, url)
    finally:
        if hasattr(databases, "close"):
            databases.close()
