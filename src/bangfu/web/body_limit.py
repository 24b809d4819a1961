"""Request bodies over a size limit are refused with 413 before they are read.

FastAPI reads and parses a body before any dependency runs, the sign-in check included, so without
a limit anyone could make a worker read (and hold) 100 MB before being told 401. A declared
``Content-Length`` over the limit is answered at once, without reading a byte of the body; a body
sent without one (chunked) is counted as it arrives and refused as soon as it passes the limit.
JSON bodies (cases) get a tighter limit than the rest (forms). The upload routes (the checks page's
file, the bank's return file on its page and in the API: ``UPLOAD_PATHS``) get their own, larger
limit; every other path keeps the small one, so the large limit opens no other door.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bangfu.settings import BodyLimits

# POST paths that take a file upload (multipart) and so get ``max_upload_bytes``.
UPLOAD_PATHS = frozenset({"/checks", "/payments/returns", "/api/v1/payment-batches/returns"})


class BodyTooLarge(HTTPException):
    """Raised from ``receive``: FastAPI lets an HTTPException through its body parsing to the error answers."""

    def __init__(self, limit: int, upload: bool = False) -> None:
        super().__init__(413, too_large_message(limit, upload))


def too_large_message(limit: int, upload: bool = False) -> str:
    size = f"{limit // 1024:,} KB" if limit < 1024 * 1024 else f"{limit / (1024 * 1024):g} MB"
    if upload:
        return (
            f"上传的文件过大：超过上限 {size}，未作处理；请把文件拆分（如按乡镇）后分别上传，"
            "或请系统管理员在服务器上处理"
        )
    return f"请求内容过大：超过上限 {size}，已拒绝，未作处理；请减少一次提交的内容（如把案例拆开分别提交）"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class BodyLimit:
    """Pure ASGI middleware (like ``security.SecurityHeaders``); register it inside SecurityHeaders."""

    def __init__(self, app: ASGIApp, *, limits: BodyLimits | None = None) -> None:
        self.app = app
        self.limits = limits or BodyLimits.from_env()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_json_body_bytes if _is_json(scope) else self.limits.max_body_bytes
        upload = scope.get("method") == "POST" and scope["path"] in UPLOAD_PATHS
        if upload:
            limit = self.limits.max_upload_bytes
        declared = _content_length(scope)
        if declared is not None and (declared < 0 or declared > limit):
            await self._refuse(scope, receive, send, limit, upload)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, upload)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            # Raised where no exception handler answers it (outside a route): answer here if still possible.
            if started:
                raise
            await self._refuse(scope, receive, send, limit, upload)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int, upload: bool = False) -> None:
        message = too_large_message(limit, upload)
        response: Response
        # The connection is closed after the answer, so the unread body is never read.
        headers = {"connection": "close"}
        if scope["path"].startswith("/api/") or "app" not in scope:
            response = JSONResponse({"detail": message}, status_code=413, headers=headers)
        else:
            from bangfu.web.routes.pages import render  # the pages import the app's routes: import when needed

            response = render(Request(scope), "error.html", 413, viewer=None, message=message, status=413)
            response.headers.update(headers)
        await response(scope, receive, send)
