"""Property-based API tests generated from /openapi.json (schemathesis): no request, however odd,
gets a server error, signed in or not, and every answer is one the document declares: its status, its
content type and its body's schema (the response models and error shapes of ``web.api_models``).
SQLite only: the point is the handlers, not the back end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from web_support import api_token, build_registry

from bangfu.web.app import create_app
from database_servers import settings_for


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    url = f"sqlite:///{(tmp_path_factory.mktemp('schemathesis') / 'bangfu.db').as_posix()}"
    build_registry(url)
    app = create_app(settings_for(url))
    with TestClient(app) as client:
        headers = api_token(client, "county_xing")
    yield app, headers
    app.state.context.close()


def operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10, found  # every endpoint of /api/v1 is in the document
    return found


# The answer is what the document says it is, not merely not a crash.
DECLARED = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_server_errors_signed_in(served: tuple[Any, dict[str, str]]) -> None:
    app, headers = served
    for operation in operations(app):
        if operation.path == "/api/v1/auth/token":
            continue  # signing in with generated passwords would throttle the account for the other cases

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=DECLARED)

        no_server_error()


def test_no_server_errors_anonymous(served: tuple[Any, dict[str, str]]) -> None:
    for operation in operations(served[0]):

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
        def refused_without_token(case: Any) -> None:
            response = case.call()
            case.validate_response(response, checks=DECLARED)
            if case.path != "/api/v1/auth/token":
                assert response.status_code in (401, 422), (case.path, response.status_code)

        refused_without_token()
