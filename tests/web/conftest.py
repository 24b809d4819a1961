"""The platform on both back ends, over the registry of ``web_support``, for the web tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_support import ACCOUNTS, Platform, build_registry

from bangfu.web.app import create_app
from database_servers import BACKENDS, postgres_database


@pytest.fixture(scope="session", params=BACKENDS)
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(tmp_path_factory.mktemp('web') / 'bangfu.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    try:
        persons, organizations = build_registry(url)
        app = create_app(url)
        with TestClient(app, base_url="http://testserver") as client:
            yield Platform(url, client, persons, organizations,
                           {u: (role, region) for u, role, region, _ in ACCOUNTS})
        app.state.engine.dispose()
    finally:
        if hasattr(databases, "close"):
            databases.close()
