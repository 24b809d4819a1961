"""The answer to an unhandled exception: a Chinese 500 page or JSON, inside the middleware stack.

Starlette answers unhandled exceptions in ``ServerErrorMiddleware``, which sits outside every user
middleware, so its plain "Internal Server Error" went out without the security headers (finding:
500 answers lacked CSP, nosniff, frame and no-store headers). This middleware sits inside
``SecurityHeaders`` and answers first. The answer names no exception, SQL or path: the traceback goes
to the server's log only.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVER_ERROR = "服务器内部错误：操作未完成，请稍后重试；如仍失败请联系管理员"
log = logging.getLogger("bangfu.web")


class UnhandledErrors:
    """Pure ASGI middleware: an exception before the answer has started becomes a 500 answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.exception("未处理的异常：%s %s", scope.get("method"), scope.get("path"))
            if started:  # part of the answer is out already; nothing sensible can follow it
                raise
            await _answer(scope)(scope, receive, send)


def _answer(scope: Scope) -> Response:
    request = Request(scope)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": SERVER_ERROR}, status_code=500)
    # No account lookup for the navigation: the database may be what failed.
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "error.html", {"viewer": None, "message": SERVER_ERROR, "status": 500}, status_code=500
    )
    return response
