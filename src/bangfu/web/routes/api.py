"""The JSON API under /api/v1. Bearer tokens; every read is scoped to the account's region subtree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Body, Depends, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import Connection, Engine

from bangfu.accounts.sessions import LoginFailed, LoginThrottled, open_session
from bangfu.accounts.sign_in_steps import token_refusal
from bangfu.core.vocabulary import WORK_SITUATIONS
from bangfu.policy.case import CaseError, parse_case
from bangfu.policy.catalog import describe_policy, describe_set
from bangfu.policy.engine import PolicyConflictError
from bangfu.policy.evaluation import evaluate_all
from bangfu.registry import queries
from bangfu.registry.queries import OrganizationDetail, PersonDetail
from bangfu.registry.stored_cases import stored_case
from bangfu.reports.dashboard import Dashboard, dashboard
from bangfu.web.api_models import (
    SIGNED_IN,
    XLSX_ANSWER,
    Evaluation,
    Me,
    OrganizationPage,
    PersonPage,
    PolicyDescription,
    Unmasked,
    errors,
)
from bangfu.web.deps import (
    ApiViewer,
    Db,
    RecordId,
    app_context,
    client_address,
    keep_device,
    reveal_person,
    sign_in_request,
)
from bangfu.web.exports import organizations_roster, people_roster

router = APIRouter(prefix="/api/v1")

EXAMPLE_CASE = {
    "date": "2024-06-30",
    "region": "141123",
    "person": {
        "categories": ["poverty_alleviated"],
        "hukou_region": "141123",
        "labor_capacity": "ordinary",
        "birth_date": "1980-05-01",
        "employment": [
            {
                "start": "2024-03-01",
                "end": None,
                "work_region": "440305",
                "organized_export": False,
                "travel_cost_fen": 95000,
            }
        ],
        "training": [{"start": "2024-04-01", "days": 10}],
        "received": [],
    },
}


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


def json_answer(value: Any) -> Response:
    """Read models (dataclasses, dates) and the engine's answers as JSON by orjson, which writes them
    natively at a fraction of the cost of FastAPI's generic encoder (the evaluation's hot path)."""
    return Response(orjson.dumps(value), media_type="application/json")


T = TypeVar("T")


async def read(request: Request, work: Callable[[Connection], T]) -> T:
    """Run read-only ``work`` on a pooled connection in autocommit (no BEGIN/COMMIT round trips), in one
    hop to the thread pool."""
    return await run_in_threadpool(_read, app_context(request).engine, work)


def _in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.begin() as connection:
        return work(connection)


def _read(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:
        return work(connection.execution_options(isolation_level="AUTOCOMMIT"))


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses=errors(401, 403, 422, 429),
    tags=["auth"],
    summary="以用户名和口令取得访问令牌（OAuth2 password）；启用两步验证的账户另加表单字段 totp_code",
)
def issue_token(
    request: Request,
    session: Db,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    totp_code: Annotated[str, Form(max_length=16, description="两步验证的 6 位验证码（启用两步验证的账户）")] = "",
) -> Response:
    # Refusals are returned, not raised: raising would roll back the request's transaction, and with
    # it the record of the failed attempt that throttling counts.
    try:
        signed_in = sign_in_request(request, form.username, form.password)
    except LoginThrottled as exc:
        return JSONResponse({"detail": str(exc)}, 429, headers={"Retry-After": str(exc.retry_after_s)})
    except LoginFailed as exc:
        return JSONResponse({"detail": str(exc)}, 401, headers={"WWW-Authenticate": "Bearer"})
    if refusal := token_refusal(session, signed_in.account, totp_code, client_address(request)):
        return JSONResponse({"detail": refusal[1]}, refusal[0], headers={"WWW-Authenticate": "Bearer"})
    issued = open_session(session, signed_in.account, "api")
    issued = open_session(session, signed_in.account, "api")
    lifetime = int((issued.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
    # A Response, not a model for FastAPI to validate: that would take another hop to the thread pool
    # while this unit of work holds SQLite's write lock (see deps._page_session).
    answer = json_answer(TokenResponse(access_token=issued.token, expires_in=lifetime).model_dump())
    # A client that keeps cookies is a known device at its next sign-in (ADR 0009); others need not.
    keep_device(request, answer, signed_in)
    return answer


@router.get("/me", response_model=Me, responses=errors(*SIGNED_IN), tags=["auth"], summary="当前账号及其可见地区")
def me(viewer: ApiViewer) -> Me:
    account = viewer.account
    return Me(
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        region_code=account.region_code,
        can_unmask=account.can_unmask,
    )


@router.post(
    "/policy/evaluate",
    tags=["policy"],
    summary="评估一个案例（与 bangfu policy evaluate 相同的输入与输出）：按当地当日执行中的各政策文件分组作答；"
    "案例不写 date 时按今天评估",
    response_model=Evaluation,
    responses=errors(*SIGNED_IN, 409),
)
async def evaluate(
    request: Request,
    viewer: ApiViewer,
    case: Annotated[dict[str, Any], Body(examples=[EXAMPLE_CASE])],
) -> Response:
    # Async and serialized directly: the engine takes a fraction of a millisecond and its answer is
    # plain JSON already, so neither a thread-pool hop nor FastAPI's generic encoder is worth paying.
    if isinstance(case, dict) and "date" not in case:
        case = {**case, "date": dt.date.today().isoformat()}  # as the pages do: what applies today
    try:
        result = evaluate_all(app_context(request).policies, parse_case(case))
    except CaseError as exc:
        raise HTTPException(422, f"案例字段 {exc.path}：{exc.message}") from None
    except PolicyConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    return json_answer(result)


@router.get(
    "/policy",
    tags=["policy"],
    summary="政策条款、政策项目、参数与执行期：顶层为默认政策文件；documents 列出全部政策文件，"
    "先列本账号地区今日执行中的，再列其他地区执行中、即将施行和已结束的",
    response_model=PolicyDescription,
    responses=errors(*SIGNED_IN),
)
def policy(
    request: Request,
    viewer: ApiViewer,
    date: Annotated[dt.date | None, Query(description="按哪一日判断各文件是否在执行期，默认今天")] = None,
) -> dict[str, Any]:
    policies = app_context(request).policies
    day = date or dt.date.today()
    return {
        **describe_policy(policies.default),
        "date": day.isoformat(),
        "documents": describe_set(policies, day, viewer.account.region_code),
    }


NAME_QUERY = "姓名中的一个或几个字（如“华”“李华”），或拼音首字母（至少 2 个，如“lh”）"
REGION_QUERY = "地区名称（如“蔚汾镇”“兴县”“吕梁市”）或行政区划代码；重名时答 422 并列出可选地区"
SORT_QUERY = "排序：name（姓名拼音，默认）、region（户籍地）、birth_year（出生年份），前加“-”为倒序"
WORK_QUERY = "务工情况：" + "、".join(f"{key}（{label}）" for key, label in WORK_SITUATIONS.items())
VILLAGE_QUERY = "所在村（导入名单“村”一列所写的村名，整名匹配）"


@router.get(
    "/people",
    response_model=PersonPage,
    responses=errors(*SIGNED_IN),
    tags=["people"],
    summary="查询人员（身份证号、姓名片段或拼音首字母、地区、人员类别、务工情况、村），脱敏；"
    "分页：items、total、page、per_page、pages",
)
async def search_people(
    request: Request,
    viewer: ApiViewer,
    id_number: Annotated[str | None, Query(max_length=40, description="身份证号（15 或 18 位）")] = None,
    name: Annotated[str | None, Query(max_length=64, description=NAME_QUERY)] = None,
    region: Annotated[str | None, Query(max_length=40, description=REGION_QUERY)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    work: Annotated[str | None, Query(max_length=32, description=WORK_QUERY)] = None,
    village: Annotated[str | None, Query(max_length=64, description=VILLAGE_QUERY)] = None,
    sort: Annotated[str | None, Query(max_length=16, description=SORT_QUERY)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    def search(connection: Connection) -> Any:
        return queries.search_people(
            connection,
            viewer.scope,
            id_number=id_number,
            name=name,
            region=region,
            category=category,
            work=work,
            village=village,
            sort=sort,
            page=page,
            per_page=per_page,
            searched_by=viewer.reader,
        )

    if id_number and id_number.strip():
        # A lookup by ID number is audited: it runs in a transaction, committed before the answer.
        return json_answer(await run_in_threadpool(_in_transaction, app_context(request).engine, search))
    return json_answer(await read(request, search))


@router.get(
    "/people/export",
    tags=["people"],
    summary="导出本账号地区的人员名单（XLSX，身份证号与电话脱敏，记入审计日志），可按与查询相同的条件筛选",
    response_class=FileResponse,
    responses={200: XLSX_ANSWER, **errors(*SIGNED_IN)},
)
def export_roster(
    request: Request,
    viewer: ApiViewer,
    id_number: Annotated[str | None, Query(max_length=40, description="身份证号（15 或 18 位）")] = None,
    name: Annotated[str | None, Query(max_length=64, description=NAME_QUERY)] = None,
    region: Annotated[str | None, Query(max_length=40, description=REGION_QUERY)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    work: Annotated[str | None, Query(max_length=32, description=WORK_QUERY)] = None,
    village: Annotated[str | None, Query(max_length=64, description=VILLAGE_QUERY)] = None,
) -> FileResponse:
    return people_roster(request, viewer, queries.PeopleFilters(id_number, name, region, category, work, village))


@router.get(
    "/people/{person_id}",
    response_model=PersonDetail,
    responses=errors(*SIGNED_IN, 404),
    tags=["people"],
    summary="人员详情（脱敏）；不在本账号地区范围内的答 404",
)
async def person(request: Request, viewer: ApiViewer, person_id: RecordId) -> Response:
    policies = app_context(request).policies
    detail = await read(
        request, lambda connection: queries.person_detail(connection, viewer.scope, person_id, policies)
    )
    if detail is None:
        raise HTTPException(404, "未找到该人员（或不在您的地区范围内）")
    return json_answer(detail)


@router.get(
    "/people/{person_id}/entitlements",
    response_model=Evaluation,
    responses=errors(*SIGNED_IN, 404, 409),
    tags=["people"],
    summary="该人员在某日可享受的政策（含条款与理由）",
)
async def entitlements(
    request: Request,
    viewer: ApiViewer,
    person_id: RecordId,
    date: Annotated[dt.date | None, Query(description="评估日期，默认今天")] = None,
) -> Response:
    policies = app_context(request).policies

    def case_of(connection: Connection) -> dict[str, Any] | None:
        if queries.person_detail(connection, viewer.scope, person_id, policies) is None:
            return None
        return stored_case(connection, "person", person_id, date or dt.date.today())

    case = await read(request, case_of)
    if case is None:
        raise HTTPException(404, "未找到该人员（或不在您的地区范围内）")
    return json_answer(evaluate_all(policies, parse_case(case)))


@router.post(
    "/people/{person_id}/unmask",
    response_model=Unmasked,
    responses=errors(*SIGNED_IN, 404),
    tags=["people"],
    summary="查看完整身份证号与电话（需授权，记入审计日志）",
)
def unmask(session: Db, viewer: ApiViewer, person_id: RecordId) -> Response:
    # A Response, as in issue_token: no hop to the thread pool while the audit entry's lock is held.
    return json_answer(reveal_person(session, viewer, person_id))


@router.get(
    "/organizations",
    response_model=OrganizationPage,
    responses=errors(*SIGNED_IN),
    tags=["organizations"],
    summary="查询单位（名称、类型、地区）；分页与人员查询相同",
)
async def search_organizations(
    request: Request,
    viewer: ApiViewer,
    name: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    region: Annotated[str | None, Query(max_length=40, description=REGION_QUERY)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    def search(connection: Connection) -> Any:
        return queries.search_organizations(
            connection, viewer.scope, name=name, kind=kind, region=region, page=page, per_page=per_page
        )

    return json_answer(await read(request, search))


@router.get(
    "/organizations/export",
    tags=["organizations"],
    summary="导出本账号地区的单位名单（XLSX，电话脱敏，记入审计日志），可按与查询相同的条件筛选",
    response_class=FileResponse,
    responses={200: XLSX_ANSWER, **errors(*SIGNED_IN)},
)
def export_organizations(
    request: Request,
    viewer: ApiViewer,
    name: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    region: Annotated[str | None, Query(max_length=40, description=REGION_QUERY)] = None,
) -> FileResponse:
    return organizations_roster(request, viewer, queries.OrganizationFilters(name, kind, region))


@router.get(
    "/organizations/{org_id}",
    response_model=OrganizationDetail,
    responses=errors(*SIGNED_IN, 404),
    tags=["organizations"],
    summary="单位详情；不在本账号地区范围内的答 404",
)
async def organization(request: Request, viewer: ApiViewer, org_id: RecordId) -> Response:
    policies = app_context(request).policies
    detail = await read(
        request, lambda connection: queries.organization_detail(connection, viewer.scope, org_id, policies)
    )
    if detail is None:
        raise HTTPException(404, "未找到该单位（或不在您的地区范围内）")
    return json_answer(detail)


@router.get(
    "/dashboard",
    response_model=Dashboard,
    responses=errors(*SIGNED_IN),
    tags=["dashboard"],
    summary="本账号地区的概览数字",
)
async def dashboard_figures(request: Request, viewer: ApiViewer) -> Response:
    return json_answer(await read(request, lambda connection: dashboard(connection, viewer.scope)))
