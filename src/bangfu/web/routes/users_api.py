"""Account administration through the JSON API (``/api/v1/users``): the same rule and operations as the
administrator page (``accounts/administration.py``), for scripts of a province or county office."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bangfu.accounts import administration
from bangfu.accounts.administration import Action, NotAnAdministrator, Outcome, OutOfReach
from bangfu.accounts.users import Account, AccountError
from bangfu.web.api_models import SIGNED_IN, AccountOutcome, AccountPage, errors
from bangfu.web.deps import ApiViewer, Db, RecordId

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class NewAccount(BaseModel):
    username: str = Field(max_length=64, description="用户名：3–64 个字符，字母、数字、汉字和 . _ -")
    role: str = Field(max_length=16, description="角色：province、city、county、township 或 auditor")
    region_code: str = Field(max_length=16, description="所辖地区代码，如县 141123、乡镇 141123100")
    display_name: str = Field(default="", max_length=64, description="显示名称（如姓名）")
    can_unmask: bool = Field(default=False, description="可查看完整个人信息（审计账户不可）")


def _account(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "region_code": account.region_code,
        "can_unmask": account.can_unmask,
        "active": account.active,
        "must_change_password": account.must_change_password,
        "second_factor": account.second_factor,
        "is_demo": account.is_demo,
    }


def _answer(request: Request, outcome: Outcome, status_code: int = 200) -> JSONResponse:
    # A Response, not a dict for FastAPI to serialize: that would take another hop to the thread pool
    # while this unit of work holds SQLite's write lock (see deps._page_session).
    request.app.state.tokens.forget_account(outcome.account.id)
    answer: dict[str, Any] = {"account": _account(outcome.account), "done": outcome.done}
    if outcome.temporary_password is not None:
        answer["temporary_password"] = outcome.temporary_password
    return JSONResponse(answer, status_code)


def _refused(exc: Exception) -> HTTPException:
    status = 403 if isinstance(exc, NotAnAdministrator) else 404 if isinstance(exc, OutOfReach) else 422
    return HTTPException(status, str(exc))


@router.get(
    "",
    response_model=AccountPage,
    responses=errors(*SIGNED_IN),
    summary="本账户可管理的账户（本地区内本级及以下，不含自己），按地区、用户名排序；分页与人员查询相同",
)
def list_users(
    session: Db,
    viewer: ApiViewer,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> JSONResponse:
    if not administration.may_administer_accounts(viewer.account):
        raise HTTPException(403, administration.NOT_AN_ADMINISTRATOR)
    # A county's accounts number in the hundreds: read them all, as the administrator page does, and cut.
    accounts = administration.administered(session, viewer.account)
    shown = accounts[(page - 1) * per_page : page * per_page]
    return JSONResponse(
        {
            "items": [_account(account) for account in shown],
            "total": len(accounts),
            "page": page,
            "per_page": per_page,
            "pages": math.ceil(len(accounts) / per_page),
        }
    )


def _create(session: Session, viewer: ApiViewer, body: NewAccount) -> Outcome:
    return administration.create_account(
        session, viewer.account, username=body.username, role=body.role, region_code=body.region_code,
        display_name=body.display_name, can_unmask=body.can_unmask, address=viewer.address,
    )  # fmt: skip


@router.post(
    "",
    status_code=201,
    response_model=AccountOutcome,
    responses=errors(*SIGNED_IN),
    summary="新建账户（系统生成临时口令，只在本次回答中给出）",
)
def create_user(request: Request, session: Db, viewer: ApiViewer, body: NewAccount) -> JSONResponse:
    try:
        return _answer(request, _create(session, viewer, body), 201)
    except (NotAnAdministrator, AccountError) as exc:
        raise _refused(exc) from None


@router.post(
    "/{user_id}/{action}",
    summary="停用 disable、启用 enable、重设口令 reset-password、作废令牌 revoke-tokens、重置两步验证 totp-reset",
    response_model=AccountOutcome,
    responses=errors(*SIGNED_IN, 404),
)
def administer_user(
    request: Request, session: Db, viewer: ApiViewer, user_id: RecordId, action: Action
) -> JSONResponse:
    try:
        outcome = administration.administer(session, viewer.account, user_id, action, address=viewer.address)
    except (NotAnAdministrator, OutOfReach, AccountError) as exc:
        raise _refused(exc) from None
    return _answer(request, outcome)
