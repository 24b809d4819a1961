"""Also seen: 500 answers lacked the security headers. Now they carry them, in Chinese, with no internals.

A route that raises (added to a test app), and a real failure: the database dropped under a running
application, on both back ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from web_support import api_token, build_registry, page_login

from bangfu.web.app import create_app
from bangfu.web.server_errors import SERVER_ERROR
from database_servers import BACKENDS, POSTGRES_SERVER, postgres_database, settings_for

SECRET = "SELECT id_number FROM persons WHERE secret_table_name"


def assert_safe_500(answer: object) -> None:
    from httpx2 import Response

    assert isinstance(answer, Response)
    assert answer.status_code == 500
    headers = answer.headers
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert SERVER_ERROR in answer.text
    for leak in ("Traceback", "SELECT", "sqlite", "psycopg", "OperationalError", "secret", ".py"):
        assert leak not in answer.text


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{(tmp_path / 'b.db').as_posix()}"
        build_registry(url)
        yield url
        return
    databases = postgres_database()
    url = next(databases)
    try:
        build_registry(url)
        yield url
    finally:
        databases.close()


def test_a_route_that_raises_answers_a_safe_500(database: str) -> None:
    app: FastAPI = create_app(settings_for(database))

    def boom() -> None:
        raise RuntimeError(SECRET)

    app.add_api_route("/api/v1/boom", boom)
    app.add_api_route("/boom", boom)
    with TestClient(app) as client:
        api = client.get("/api/v1/boom")
        assert_safe_500(api)
        assert api.json() == {"detail": SERVER_ERROR}
        page = client.get("/boom")
        assert_safe_500(page)
        assert page.headers["content-type"].startswith("text/html") and "出错了" in page.text
    app.state.context.close()


def test_a_database_gone_answers_a_safe_500(database: str) -> None:
    app = create_app(settings_for(database))
    with TestClient(app) as client:
        headers = api_token(client, "province")
        page_login(client, "province")
        app.state.tokens = type(app.state.tokens)(ttl=0)  # no cached token: the lookup must reach the database
        app.state.context.close()
        if database.startswith("sqlite"):
            Path(make_url(database).database or "").unlink()
        else:
            admin = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE "{make_url(database).database}" WITH (FORCE)')
            admin.dispose()
        assert_safe_500(client.get("/api/v1/people/1", headers=headers))
        assert_safe_500(client.get("/people"))
    app.state.context.close()
