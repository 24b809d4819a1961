"""The signed-in user's own account: the sign-in's second step (TOTP code), changing the password
(forced after a temporary one), and enrolling in the second factor."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bangfu.accounts import second_factor
from bangfu.accounts.life_cycle import change_own_password
from bangfu.accounts.passwords import MIN_LENGTH
from bangfu.accounts.sessions import open_session
from bangfu.accounts.users import Account, AccountError, account_of
from bangfu.web.deps import (
    ANONYMOUS_CSRF_COOKIE,
    PAGE_COOKIE,
    CsrfViewer,
    Db,
    PageViewer,
    check_anonymous_csrf,
    client_address,
)
from bangfu.web.routes.pages import render, safe_next
from bangfu.web.security import new_token

router = APIRouter(include_in_schema=False)

PENDING_COOKIE = "bangfu_second_step"


def signed_in(request: Request, session: Session, account: Account, next_path: str) -> Response:
    """Open the page session and go on (the password page first, for a temporary password)."""
    issued = open_session(session, account, "page")
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        PAGE_COOKIE, issued.token, httponly=True, samesite="strict", secure=request.app.state.https,
        path="/", expires=issued.expires_at,
    )  # fmt: skip
    secure = request.app.state.https
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(PENDING_COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
    return response


def code_form(
    request: Request, *, next_path: str, error: str | None = None, status_code: int = 200, pending: str | None = None
) -> Response:
    """The second step's form; ``pending`` (a fresh half-signed-in token) is set as a short-lived cookie."""
    token = new_token()
    response = render(
        request, "login_code.html", status_code=status_code, viewer=None, active="login",
        csrf_token=token, error=error, next_path=safe_next(next_path),
    )  # fmt: skip
    secure = request.app.state.https
    response.set_cookie(ANONYMOUS_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")
    if pending is not None:
        response.set_cookie(
            PENDING_COOKIE, pending, httponly=True, samesite="strict", secure=secure, path="/",
            max_age=int(second_factor.PENDING_LIFETIME.total_seconds()),
        )  # fmt: skip
    return response


def after_password(request: Request, session: Session, account: Account, next_path: str) -> Response:
    """What the login page does once the password was right: the code step, or the session itself."""
    if account.second_factor:
        return code_form(request, next_path=next_path, pending=second_factor.pending_token(session, account))
    return signed_in(request, session, account, next_path)


@router.post("/login/code", dependencies=[Depends(check_anonymous_csrf)])
def login_code(
    request: Request,
    session: Db,
    code: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    pending = request.cookies.get(PENDING_COOKIE)
    user = second_factor.pending_user(session, pending)
    if user is None or pending is None:
        return RedirectResponse("/login?next=" + quote(safe_next(next), safe="/"), status_code=303)
    since = second_factor.pending_since(pending)
    if second_factor.failures_since(session, user.username, since) >= second_factor.MAX_CODE_FAILURES:
        response = RedirectResponse("/login?next=" + quote(safe_next(next), safe="/"), status_code=303)
        response.delete_cookie(
            PENDING_COOKIE, path="/", secure=request.app.state.https, httponly=True, samesite="strict"
        )
        return response
    # Returned, not raised: the failed attempt must be committed with the request.
    if not second_factor.check_code(session, user, code, client_address(request)):
        error = "验证码不对：请输入验证器应用当前显示的 6 位数字（连错几次须重新输入口令）"
        return code_form(request, next_path=next, error=error, status_code=401)
    return signed_in(request, session, account_of(user), next)


def _password_page(request: Request, viewer: PageViewer, error: str | None = None, status_code: int = 200) -> Response:
    return render(
        request, "password.html", status_code=status_code, viewer=viewer, active="account", error=error,
        min_length=MIN_LENGTH,
    )  # fmt: skip


@router.get("/account/password")
def password_page(request: Request, viewer: PageViewer) -> Response:
    return _password_page(request, viewer)


@router.post("/account/password")
def change_password(
    request: Request,
    session: Db,
    viewer: CsrfViewer,
    old: Annotated[str, Form(max_length=256)] = "",
    new: Annotated[str, Form(max_length=256)] = "",
    repeated: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    try:
        change_own_password(
            session, viewer.account.id, old, new, repeated, keep_session_id=viewer.auth.session_id,
            address=viewer.address,
        )  # fmt: skip
    except AccountError as exc:
        return _password_page(request, viewer, error=str(exc), status_code=422)
    request.app.state.tokens.forget_account(viewer.account.id)
    return RedirectResponse("/account?changed=1", status_code=303)


@router.get("/account")
def account_page(request: Request, viewer: PageViewer, changed: str = "") -> Response:
    enrolment = None
    if not viewer.account.second_factor:
        secret = second_factor.new_secret()
        uri = second_factor.provisioning_uri(secret, viewer.account.username)
        enrolment = {"secret": secret, "qr": second_factor.qr_svg(uri)}
    return render(
        request, "account.html", viewer=viewer, active="account", enrolment=enrolment, changed=bool(changed),
    )  # fmt: skip


@router.post("/account/second-factor")
def enrol_second_factor(
    request: Request,
    session: Db,
    viewer: CsrfViewer,
    secret: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        second_factor.enrol(session, viewer.account.id, secret, code, address=viewer.address)
    except AccountError as exc:
        uri = second_factor.provisioning_uri(secret, viewer.account.username) if secret else ""
        enrolment = {"secret": secret, "qr": second_factor.qr_svg(uri)} if uri else None
        return render(
            request, "account.html", status_code=422, viewer=viewer, active="account", enrolment=enrolment,
            error=str(exc), changed=False,
        )  # fmt: skip
    return RedirectResponse("/account", status_code=303)
