"""The application factory: its context (database, policy set), templates, routers, security headers, error answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from bangfu.context import Context
from bangfu.policy.case import CaseError
from bangfu.policy.policy_set import PolicySet
from bangfu.registry.queries import QueryError
from bangfu.settings import BodyLimits, Settings
from bangfu.store.migrate import require_head
from bangfu.web.api_models import API_TAGS, declare_body_limit
from bangfu.web.body_limit import BodyLimit
from bangfu.web.check_results import CheckResults
from bangfu.web.deps import PASSWORD_CHANGE_PAGE, LoginRequired, PasswordChangeRequired, TokenCache, optional_viewer
from bangfu.web.routes import (
    account_pages,
    admin_pages,
    api,
    check_pages,
    claim_pages,
    claims_api,
    ledger_pages,
    pages,
    payment_pages,
    payments_api,
    policy_pages,
    public,
    standards_pages,
    users_api,
)
from bangfu.web.security import SecurityHeaders
from bangfu.web.server_errors import UnhandledErrors
from bangfu.web.views import fact_label, make_templates

# What a page's error names instead of a parameter: its meaning, and FastAPI's error type in words.
PAGE_FIELD_LABELS = {
    "person_id": "人员编号",
    "org_id": "单位编号",
    "run_id": "核查编号",
    "batch_id": "批次编号",
    "payment_id": "支付编号",
    "page": "页码",
    "per_page": "每页条数",
    "date": "日期",
    "saved": "地址中的参数",
}
PAGE_ERROR_WORDS = {
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为是或否",
    "missing": "不能为空",
    "string_too_long": "过长",
    "greater_than_equal": "过小",
    "less_than_equal": "过大",
}
FIELD_NAMES = {"body": "请求体", "query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie"}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one Chinese sentence naming each field (for API clients)."""
    parts = []
    for error in exc.errors():
        location = [str(p) for p in error.get("loc", ())]
        where = FIELD_NAMES.get(location[0], location[0]) if location else "请求"
        name = ".".join(location[1:]) or "整体"
        parts.append(f"{where} {name} 无效（{error.get('msg', '')}）")
    return "；".join(parts) or "请求无效"


def _page_validation_message(exc: RequestValidationError) -> str:
    """The same for a page, in words only: a reader sees neither the parameter's name nor FastAPI's English."""
    parts = []
    for error in exc.errors():
        location = [str(p) for p in error.get("loc", ())]
        what = PAGE_FIELD_LABELS.get(location[-1], "地址或表单中的一项") if location else "请求"
        problem = PAGE_ERROR_WORDS.get(str(error.get("type", "")), "格式不正确")
        given = error.get("input")
        parts.append(f"{what}{f'“{given}”' if isinstance(given, str) and given else ''}{problem}")
    return "；".join(parts) or "请求无效"


def create_app(settings: Settings, *, policies: PolicySet | None = None, checks_dir: Path | None = None) -> FastAPI:
    """The platform on ``settings.database_url`` (which must be migrated: ``bangfu init``).

    The app's context (engine, sessions, policy set) is built here, once, and kept on
    ``app.state.context``; the app's shutdown closes it. ``checks_dir``: where the checks page keeps
    its results (default: ``checks`` in the data folder).
    """
    context = Context.for_web(settings, policies=policies)
    try:
        with context.engine.connect() as connection:
            require_head(connection)
        context.policies  # noqa: B018 -- loaded now, not by the first request
    except BaseException:
        context.close()
        raise

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        context.close()

    app = FastAPI(
        title="帮扶（Bangfu）就业帮扶平台 API",
        version="1",
        description="就业帮扶政策评估、人员与单位查询。个人信息默认脱敏；令牌通过 POST /api/v1/auth/token 取得。",
        # Swagger UI and ReDoc load their scripts from a CDN; the intranet has none. /openapi.json stays.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Operation ids are the handlers' names (search_people, not search_people_api_v1_people_get): what a
        # client generated from /openapi.json calls its functions (ADR 0029). Handler names are unique.
        generate_unique_id_function=_operation_id,
        openapi_tags=API_TAGS,
    )
    app.state.context = context
    app.state.tokens = TokenCache()
    app.state.templates = make_templates()
    app.state.https = settings.public_https
    app.state.require_totp_for_unmask = settings.require_totp_for_unmask
    app.state.trusted_proxies = settings.trusted_proxies
    app.state.check_results = CheckResults(checks_dir or settings.data_dir / "checks")
    app.state.max_upload_bytes = BodyLimits.from_env().max_upload_bytes
    static = resources.files("bangfu.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(users_api.router)
    app.include_router(payments_api.router)
    app.include_router(pages.router)
    app.include_router(account_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(standards_pages.router)
    app.include_router(policy_pages.router)
    app.include_router(check_pages.router)
    app.include_router(ledger_pages.router)
    app.include_router(claim_pages.router)
    app.include_router(claims_api.router)
    app.include_router(payment_pages.router)
    app.include_router(public.router)
    app.add_middleware(BodyLimit)  # inside SecurityHeaders, so that its 413 answers carry the headers too
    # The last added is the outermost: the headers are added to the 500 answers too.
    app.add_middleware(UnhandledErrors)
    app.add_middleware(SecurityHeaders, https=settings.public_https)
    _add_error_answers(app)
    _declare_body_limit(app)
    return app


def _declare_body_limit(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_body_limit(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _operation_id(route: APIRoute) -> str:
    return route.name


def _error_page(request: Request, status_code: int, message: str) -> Response:
    viewer = None
    if status_code != 401:
        try:
            viewer = optional_viewer(request)
        except Exception:  # an error page must render even when the database is what failed
            viewer = None
    return pages.render(
        request, "error.html", status_code=status_code, viewer=viewer, message=message, status=status_code
    )


def _add_error_answers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, exc: PasswordChangeRequired) -> Response:
        return RedirectResponse(PASSWORD_CHANGE_PAGE, status_code=303)

    # FastAPI's HTTPException subclasses Starlette's: one handler serves both.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "请求无法处理"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "页面或记录不存在"
        elif exc.status_code == 405:
            detail = "不支持该请求方法"
        headers: dict[str, Any] | None = getattr(exc, "headers", None)
        if _is_api(request):
            return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)
        return _error_page(request, exc.status_code, detail)

    # A case built from a query (a person's entitlements on a chosen date) can be out of range too.
    @app.exception_handler(CaseError)
    async def bad_case(request: Request, exc: CaseError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": f"案例字段 {exc.path}：{exc.message}"}, status_code=422)
        # a page names the fact in words (务工经历·申报交通费), never by its path
        return _error_page(request, 422, f"{fact_label(exc.path)}：{exc.message}")

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> Response:
        if _is_api(request):
            # ``field`` names the parameter the message is about, for a client to show it beside its input.
            answer: dict[str, Any] = {"detail": str(exc), "field": exc.field}
            if exc.choices:
                answer["choices"] = exc.choices
            return JSONResponse(answer, status_code=422)
        return _error_page(request, 422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": _validation_message(exc)}, status_code=422)
        return _error_page(request, 422, _page_validation_message(exc))


def app_from_environment() -> FastAPI:
    """The application on ``BANGFU_DATABASE_URL`` (or the default SQLite file): for ``uvicorn --factory``,
    which starts one per worker process (``bangfu serve --workers N``)."""
    import gc

    app = create_app(Settings.from_env())
    # What start-up built (the policy, templates, regions) lives as long as the process: keep it out of
    # the collector's generations, so that full collections stay short and do not stretch tail latency.
    gc.freeze()
    return app
