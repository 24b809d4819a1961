"""Request bodies have a size limit and case numbers a range, on every endpoint, before sign-in is checked."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from typing import Any

from web_support import Platform, api_token

from bangfu.settings import BodyLimits
from bangfu.web.routes.api import EXAMPLE_CASE

EVALUATE = "/api/v1/policy/evaluate"
JSON_LIMIT = BodyLimits().max_json_body_bytes


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), as a client that hides its size would."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b" " * piece


def test_a_declared_100_mb_body_is_refused_before_sign_in_and_unread(platform: Platform) -> None:
    answer = platform.client.post(
        EVALUATE, content=b"{}", headers={"content-type": "application/json", "content-length": str(100 * 1024**2)}
    )
    assert answer.status_code == 413
    assert answer.json() == {
        "detail": "请求内容过大：超过上限 256 KB，已拒绝，未作处理；请减少一次提交的内容（如把案例拆开分别提交）"
    }
    assert answer.headers["x-content-type-options"] == "nosniff"  # the security headers wrap the refusal

    # At the ASGI level: the application never asks for a byte of the body.
    app = platform.client.app
    reads: list[int] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": EVALUATE,
        "raw_path": EVALUATE.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(100 * 1024**2).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 413 and reads == []


def test_a_chunked_body_is_refused_once_it_passes_the_limit(platform: Platform) -> None:
    headers = {"content-type": "application/json"}
    answer = platform.client.post(EVALUATE, content=chunks(6 * 1024 * 1024), headers=headers)  # the 5.8 MB case
    assert answer.status_code == 413, answer.text
    assert "请求内容过大" in answer.json()["detail"]
    signed_in = {**headers, **api_token(platform.client, "province")}
    answer = platform.client.post(EVALUATE, content=chunks(JSON_LIMIT + 1), headers=signed_in)
    assert answer.status_code == 413


def test_a_body_within_the_limit_is_answered(platform: Platform) -> None:
    headers = api_token(platform.client, "province")
    answer = platform.client.post(EVALUATE, json=EXAMPLE_CASE, headers=headers)
    assert answer.status_code == 200
    padded = json.dumps(EXAMPLE_CASE) + " " * (JSON_LIMIT - len(json.dumps(EXAMPLE_CASE)))
    answer = platform.client.post(EVALUATE, content=padded, headers={**headers, "content-type": "application/json"})
    assert answer.status_code == 200


def test_an_oversized_form_gets_the_error_page(platform: Platform) -> None:
    body = b"username=a&password=" + b"x" * (BodyLimits().max_body_bytes + 1)
    answer = platform.client.post("/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "请求内容过大：超过上限 1 MB" in answer.text and "<script>" not in answer.text


def test_an_out_of_range_case_number_is_a_422_naming_the_field(platform: Platform) -> None:
    case = copy.deepcopy(EXAMPLE_CASE)
    case["person"]["training"][0]["days"] = 10**20  # type: ignore[index]
    answer = platform.client.post(EVALUATE, json=case, headers=api_token(platform.client, "province"))
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "案例字段 person.training[0].days：100000000000000000000 超出范围，应在 0 至 366 之间"
    )
    case["person"]["training"][0]["days"] = 1e20  # type: ignore[index]
    answer = platform.client.post(EVALUATE, json=case, headers=api_token(platform.client, "province"))
    assert answer.status_code == 422 and "不带小数点或指数" in answer.json()["detail"]
