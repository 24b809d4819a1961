"""The claims API (``/api/v1/claims``): the same scoped reads, permissions, actions and refusals as the
claim pages (``web.claim_actions``), for scripts of a county office (ADR 0032)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from bangfu.claims.queue import DEFAULT_SORT, ClaimDetail, ClaimFilters, claim_detail, search_claims
from bangfu.registry.queries import QueryError
from bangfu.web.api_models import SIGNED_IN, ClaimOutcome, ClaimPage, errors
from bangfu.web.claim_actions import NOT_FOUND, Refused, act, draft
from bangfu.web.deps import ApiViewer, Db, RecordId, Viewer, app_context
from bangfu.web.routes.api import json_answer, read

router = APIRouter(prefix="/api/v1/claims", tags=["claims"])

REFUSED = {
    403: "无权进行此操作（乡镇账户不能审批、审计账户只读、起草人不能批准自己起草的申报、无例外批准权限）",
    409: "申报当前状态不允许此操作，或已被他人处理，或同一计发依据已有申报（说明见 detail）；未作任何更改",
}


class ActionBody(BaseModel):
    reason: str = Field(
        default="", max_length=500, description="原因：驳回、退回修改、撤回和例外批准未通过自动审核的申报时必填"
    )
    seen_status: str = Field(
        default="",
        max_length=16,
        description="您看到的申报状态（如 checked）：给出时，若申报已被他人处理（状态已变）则答 409，不作更改",
    )


class DraftBody(BaseModel):
    person_id: int = Field(ge=1, le=2**63 - 1, description="人员编号（须在本账号地区范围内）")
    benefit_id: str = Field(max_length=64, description="补贴项目编号，如 transport_cross_province")
    document_id: str = Field(max_length=64, description="政策文件编号，如 shanxi-2026（见人员可享受的政策）")


def _refusal(exc: Refused) -> Exception:
    if exc.status_code == 422:
        return QueryError(exc.message, exc.field)  # 422 with the field, as every bad parameter is answered
    return HTTPException(exc.status_code, exc.message)


def _detail(connection: Connection, request: Request, viewer: Viewer, claim_id: int) -> ClaimDetail:
    found = claim_detail(connection, viewer.scope, viewer.account.username, app_context(request).policies, claim_id)
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return found


@router.get(
    "",
    response_model=ClaimPage,
    responses=errors(*SIGNED_IN),
    summary="本账号地区范围内的申报（乡镇账户：本乡镇人员的申报和自己起草的），可按状态、项目、资金、"
    "是否未通过自动审核筛选；身份证号脱敏；分页与人员查询相同",
)
async def list_claims(
    request: Request,
    viewer: ApiViewer,
    status: Annotated[str | None, Query(max_length=16, description="状态，如 checked、approved、returned")] = None,
    benefit: Annotated[str | None, Query(max_length=64, description="补贴项目编号")] = None,
    fund: Annotated[str | None, Query(max_length=32, description="资金：revitalization、employment 等")] = None,
    flagged: Annotated[bool | None, Query(description="true：只列未通过自动审核的；false：只列通过的")] = None,
    sort: Annotated[
        str | None,
        Query(max_length=16, description="排序：created、updated（默认倒序）、amount、event_date，前加“-”为倒序"),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    shown = "" if flagged is None else "yes" if flagged else "no"
    filters = ClaimFilters(status or "", benefit or "", fund or "", shown)
    policies = app_context(request).policies

    def search(connection: Connection) -> object:
        return search_claims(
            connection, viewer.scope, viewer.account.username, policies, filters,
            sort=sort or DEFAULT_SORT, page=page, per_page=per_page,
        )  # fmt: skip

    # A bad filter raises QueryError: answered 422 with its field by the app's handler.
    return json_answer(await read(request, search))


@router.get(
    "/{claim_id}",
    response_model=ClaimDetail,
    responses=errors(*SIGNED_IN, 404),
    summary="申报详情：决定时保存的政策解释与标准、自动审核结果、处理记录；不在本账号地区范围内的答 404",
)
async def claim(request: Request, viewer: ApiViewer, claim_id: RecordId) -> Response:
    return json_answer(await read(request, lambda connection: _detail(connection, request, viewer, claim_id)))


@router.post(
    "",
    status_code=201,
    response_model=ClaimOutcome,
    responses=errors(*SIGNED_IN, 404, 409, described=REFUSED),
    summary="为本地区一名人员起草申报（按政策今天可享受的补贴），起草后自动审核，等待县级审批；"
    "同一计发依据已有申报时答 409",
)
def draft_claim(request: Request, session: Db, viewer: ApiViewer, body: DraftBody) -> Response:
    connection = session.connection()
    choice = f"{body.document_id}|{body.benefit_id}"
    try:
        claim_id = draft(connection, viewer, app_context(request).policies, body.person_id, choice, dt.date.today())
    except Refused as exc:
        raise _refusal(exc) from None
    outcome = {"done": f"已起草申报 {claim_id} 并完成自动审核", "claim": _detail(connection, request, viewer, claim_id)}
    response = json_answer(outcome)
    response.status_code = 201
    return response


@router.post(
    "/{claim_id}/{action}",
    response_model=ClaimOutcome,
    responses=errors(*SIGNED_IN, 404, 409, described=REFUSED),
    summary="处理申报：批准 approve（起草人不能批准；未通过自动审核的须有例外批准权限并写明原因）、"
    "驳回 reject、退回修改 return、撤回 withdraw（须写明原因）；每次操作记入审计日志",
)
def claim_action(
    request: Request,
    session: Db,
    viewer: ApiViewer,
    claim_id: RecordId,
    action: Literal["approve", "reject", "return", "withdraw"],
    body: ActionBody,
) -> Response:
    given = body
    connection = session.connection()
    try:
        done = act(
            connection, viewer, app_context(request).policies, claim_id, action,
            reason=given.reason, seen_status=given.seen_status,
        )  # fmt: skip
    except Refused as exc:
        raise _refusal(exc) from None
    return json_answer({"done": done, "claim": _detail(connection, request, viewer, claim_id)})
