"""The administrator page: the accounts an administrator may manage (``accounts/administration.py``),
created with a temporary password, disabled and enabled, reset, their sessions and tokens revoked.

An account outside the administrator's reach answers 404, like every other scoped read; a role that
administers nobody (township, auditor) gets 403 for the page itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from bangfu.accounts import life_cycle
from bangfu.accounts.administration import administered, administered_account, may_administer, may_administer_accounts
from bangfu.accounts.passwords import temporary_password
from bangfu.accounts.users import AccountError, add_user
from bangfu.core.vocabulary import ROLE_LABELS
from bangfu.web.deps import CsrfViewer, Db, PageViewer, RecordId, Viewer
from bangfu.web.routes.pages import render

router = APIRouter(include_in_schema=False)

NOT_AN_ADMINISTRATOR = "您的角色不能管理账户：账户由上级（县、市或省级）账户管理"
NOT_FOUND = "未找到该账户（或不在您的管理范围内）"


def _require_administrator(viewer: Viewer) -> None:
    if not may_administer_accounts(viewer.account):
        raise HTTPException(403, NOT_AN_ADMINISTRATOR)


def _page(request: Request, session: Session, viewer: Viewer, *, status_code: int = 200, **context: Any) -> Response:
    roles = {role: label for role, label in ROLE_LABELS.items() if _may_create_role(viewer, role)}
    return render(
        request, "admin_users.html", status_code=status_code, viewer=viewer, active="admin",
        accounts=administered(session, viewer.account), roles=roles, **context,
    )  # fmt: skip


def _may_create_role(viewer: Viewer, role: str) -> bool:
    # The administrator's own region stands in for any region inside it: the rule looks at the subtree.
    return may_administer(viewer.account, role, viewer.account.region_code)


@router.get("/admin/users")
def users_page(request: Request, session: Db, viewer: PageViewer) -> Response:
    _require_administrator(viewer)
    return _page(request, session, viewer)


@router.post("/admin/users")
def create_user(
    request: Request,
    session: Db,
    viewer: CsrfViewer,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    region: Annotated[str, Form(max_length=16)] = "",
    can_unmask: Annotated[bool, Form()] = False,
) -> Response:
    _require_administrator(viewer)
    form = {"username": username, "display_name": display_name, "role": role, "region": region}
    error = None
    if role not in ROLE_LABELS or not may_administer(viewer.account, role, region.strip()):
        label = ROLE_LABELS.get(role, "该角色的")
        error = f"您不能在地区“{region}”新建{label}账户：只能在本地区及其下级新建本级及以下角色的账户"
    elif can_unmask and not viewer.account.can_unmask:
        error = "您自己无权查看完整个人信息，也就不能把这项权限授予他人"
    if error is None:
        password = temporary_password()
        try:
            # A savepoint: a refused account leaves the request's transaction usable for the page.
            with session.begin_nested():
                account = add_user(
                    session, username=username.strip(), role=role, region_code=region.strip(), password=password,
                    display_name=display_name, can_unmask=can_unmask, actor=viewer.account.username,
                    address=viewer.address, temporary=True,
                )  # fmt: skip
        except AccountError as exc:
            error = str(exc)
        else:
            return _page(request, session, viewer, issued={"username": account.username, "password": password})
    return _page(request, session, viewer, status_code=422, error=error, form=form)


def _act(
    request: Request,
    session: Session,
    viewer: Viewer,
    user_id: int,
    action: Callable[[str], Any],
    done: str,
    issued_password: str | None = None,
) -> Response:
    """Apply ``action`` to an administered account (404 otherwise) and show the list with the outcome."""
    _require_administrator(viewer)
    target = administered_account(session, viewer.account, user_id)
    if target is None:
        raise HTTPException(404, NOT_FOUND)
    try:
        with session.begin_nested():
            action(target.username)
    except AccountError as exc:
        return _page(request, session, viewer, status_code=422, error=str(exc))
    request.app.state.tokens.forget_account(target.id)
    issued = None if issued_password is None else {"username": target.username, "password": issued_password}
    return _page(request, session, viewer, done=done.format(username=target.username), issued=issued)


@router.post("/admin/users/{user_id}/disable")
def disable_user(request: Request, session: Db, viewer: CsrfViewer, user_id: RecordId) -> Response:
    def disable(username: str) -> Any:
        return life_cycle.set_active(session, username, False, actor=viewer.account.username, address=viewer.address)

    return _act(request, session, viewer, user_id, disable, "已停用账户 {username}，其会话与令牌均已作废")


@router.post("/admin/users/{user_id}/enable")
def enable_user(request: Request, session: Db, viewer: CsrfViewer, user_id: RecordId) -> Response:
    def enable(username: str) -> Any:
        return life_cycle.set_active(session, username, True, actor=viewer.account.username, address=viewer.address)

    return _act(request, session, viewer, user_id, enable, "已启用账户 {username}")


@router.post("/admin/users/{user_id}/revoke-tokens")
def revoke_tokens(request: Request, session: Db, viewer: CsrfViewer, user_id: RecordId) -> Response:
    def revoke(username: str) -> Any:
        return life_cycle.revoke_tokens(session, username, actor=viewer.account.username, address=viewer.address)

    return _act(request, session, viewer, user_id, revoke, "已作废账户 {username} 的全部网页会话与 API 令牌")


@router.post("/admin/users/{user_id}/totp-reset")
def reset_totp(request: Request, session: Db, viewer: CsrfViewer, user_id: RecordId) -> Response:
    def reset(username: str) -> Any:
        return life_cycle.reset_second_factor(session, username, actor=viewer.account.username, address=viewer.address)

    return _act(request, session, viewer, user_id, reset, "已取消账户 {username} 的两步验证")


@router.post("/admin/users/{user_id}/reset-password")
def reset_password(request: Request, session: Db, viewer: CsrfViewer, user_id: RecordId) -> Response:
    password = temporary_password()

    def reset(username: str) -> Any:
        return life_cycle.set_password(
            session, username, password, temporary=True, actor=viewer.account.username, address=viewer.address
        )

    return _act(request, session, viewer, user_id, reset, "已重设账户 {username} 的口令", issued_password=password)
