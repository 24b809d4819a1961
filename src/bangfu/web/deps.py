"""What a request needs: a unit of work, the signed-in account and its scope, CSRF checks.

Pages authenticate with an HttpOnly, SameSite=Strict session cookie; the API with bearer tokens
(``POST /api/v1/auth/token``). Both resolve to the same account and the same region scope, and every
read goes through scoped queries, so pages and API cannot disagree on what a user may see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Form, HTTPException, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from bangfu.access.scope import Scope
from bangfu.accounts.devices import DEVICE_LIFETIME
from bangfu.accounts.sessions import Authenticated, SignedIn, resolve_token, sign_in
from bangfu.accounts.sign_in_steps import MUST_CHANGE_FOR_TOKEN
from bangfu.accounts.users import Account
from bangfu.context import Context
from bangfu.registry.queries import Reader
from bangfu.store.db import read_only_work
from bangfu.web.client_address import forwarded_client
from bangfu.web.security import tokens_match

PAGE_COOKIE = "bangfu_session"
# A browser (or a client that keeps cookies) that signed in before: see accounts/devices.py.
DEVICE_COOKIE = "bangfu_device"
# Row ids are BIGINT: a larger number is not a record of ours, and SQLite could not even bind it.
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1, description="记录编号")]
ANONYMOUS_CSRF_COOKIE = "bangfu_csrf"

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def app_context(request: Request) -> Context:
    """The app's context (engine, sessions, policy set), built once by ``create_app``."""
    return cast(Context, request.app.state.context)


def unit_of_work(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    with app_context(request).sessions() as session, session.begin():
        yield session


# scope="function": the transaction commits when the handler returns, before the answer is sent. With
# FastAPI's default ("request") it commits after the bytes have left, so a client could use a token
# not yet committed, or receive an unmasked number whose audit entry a crash would then lose.
Db = Annotated[Session, Depends(unit_of_work, scope="function")]


@dataclass(frozen=True)
class Viewer:
    """The signed-in account, its region scope and how it signed in."""

    auth: Authenticated
    scope: Scope
    address: str | None
    # BANGFU_REQUIRE_TOTP_FOR_UNMASK is set and this account may unmask but has no second factor yet.
    unmask_needs_second_factor: bool = False

    @property
    def account(self) -> Account:
        return self.auth.account

    @property
    def reader(self) -> Reader:
        return Reader(self.auth.account.username, self.address)


def client_address(request: Request) -> str:
    """The client's address: the TCP peer, or what a trusted proxy says in X-Forwarded-For."""
    peer = request.client.host if request.client else "unknown"
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), request.app.state.trusted_proxies)


def sign_in_request(request: Request, username: str, password: str) -> SignedIn:
    """``sign_in`` from this request's address and device cookie; raises LoginFailed or LoginThrottled."""
    address = client_address(request)
    sessions = app_context(request).sessions
    return sign_in(sessions, username, password, address, device_token=request.cookies.get(DEVICE_COOKIE))


def keep_device(request: Request, response: Response, signed_in: SignedIn) -> None:
    """(Re)set the device cookie after a sign-in: HttpOnly, SameSite=Strict, Secure over HTTPS, half a year."""
    response.set_cookie(
        DEVICE_COOKIE,
        signed_in.device_token,
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.app.state.https,
        path="/",
    )


def _viewer(auth: Authenticated, request: Request) -> Viewer:
    scope = Scope.for_account(auth.account.role, auth.account.region_code)
    account = auth.account
    required = getattr(request.app.state, "require_totp_for_unmask", False)
    needs_second_factor = required and account.can_unmask and not account.second_factor
    return Viewer(
        auth=auth, scope=scope, address=client_address(request), unmask_needs_second_factor=needs_second_factor
    )


class TokenCache:
    """Tokens resolved in the last few seconds, so that a burst of API calls costs one lookup, not one each.

    A token revoked (logout) or an account deactivated elsewhere stops working within ``ttl`` seconds
    in other worker processes; this process forgets a token at once when it revokes it.
    """

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[tuple[str, str], tuple[float, Authenticated]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str, kind: str) -> tuple[str, str]:
        return hashlib.sha256(token.encode()).hexdigest(), kind

    def cached(self, token: str, kind: str) -> Authenticated | None:
        """The token's account if resolved within ``ttl`` (and not expired since), without any I/O."""
        with self._lock:
            entry = self._entries.get(self._key(token, kind))
        if entry is None or entry[0] <= time.monotonic() or entry[1].expires_at <= dt.datetime.now(dt.UTC):
            return None
        return entry[1]

    def resolve(self, sessions: sessionmaker[Session], token: str, kind: str) -> Authenticated | None:
        """The token's account: from the cache, else from the database (then cached)."""
        found = self.cached(token, kind)
        if found is not None:
            return found
        with read_only_work(sessions) as session:
            auth = resolve_token(session, token, kind)
        key = self._key(token, kind)
        with self._lock:
            if auth is None:
                self._entries.pop(key, None)
                return None
            if len(self._entries) >= self.size:
                self._entries.clear()  # rare: a full cache starts over rather than tracking ages
            self._entries[key] = (time.monotonic() + self.ttl, auth)
        return auth

    def forget(self, token: str, kind: str) -> None:
        with self._lock:
            self._entries.pop(self._key(token, kind), None)

    def forget_account(self, user_id: int) -> None:
        """Drop every cached token of an account whose tokens were just revoked, disabled or reset."""
        with self._lock:
            for key in [key for key, (_, auth) in self._entries.items() if auth.account.id == user_id]:
                del self._entries[key]


async def api_viewer(request: Request, token: Annotated[str | None, Depends(bearer_scheme)]) -> Viewer:
    # Async, so that a cached token costs no hop to the thread pool; a lookup runs in the pool.
    if not token:
        raise HTTPException(
            401,
            "需要登录：请先用 POST /api/v1/auth/token 取得令牌，再以 Authorization: Bearer 令牌 访问",
            headers={"WWW-Authenticate": "Bearer"},
        )
    tokens: TokenCache = request.app.state.tokens
    auth = tokens.cached(token, "api") or await run_in_threadpool(
        tokens.resolve, app_context(request).sessions, token, "api"
    )
    if auth is None:
        raise HTTPException(401, "令牌无效或已过期：请重新取得令牌", headers={"WWW-Authenticate": "Bearer"})
    if auth.account.must_change_password:
        raise HTTPException(403, MUST_CHANGE_FOR_TOKEN)
    return _viewer(auth, request)


class PasswordChangeRequired(Exception):
    """The account signed in with a temporary password: every page but the change itself redirects there."""


# The only pages open to an account that must change its password first.
PASSWORD_CHANGE_PAGE = "/account/password"
OPEN_WHILE_CHANGING = (PASSWORD_CHANGE_PAGE, "/logout")


class LoginRequired(Exception):
    """A page needs a signed-in user; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def _page_session(request: Request) -> Authenticated | None:
    """The page session of the request's cookie, read in a short read-only transaction of its own.

    Not in the request's unit of work: on SQLite that takes the write lock at its first statement and
    holds it to the end of the request, and the handler runs in another hop to the thread pool. With
    every pool thread waiting for the lock, that hop could never start: the lock would be held until
    the waiters time out. Kept uncached (unlike API tokens): signing out takes effect at once.
    """
    token = request.cookies.get(PAGE_COOKIE)
    if not token:
        return None
    with read_only_work(app_context(request).sessions) as session:
        return resolve_token(session, token, "page")


def page_viewer(request: Request) -> Viewer:
    auth = _page_session(request)
    if auth is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if auth.account.must_change_password and request.url.path not in OPEN_WHILE_CHANGING:
        raise PasswordChangeRequired
    return _viewer(auth, request)


ApiViewer = Annotated[Viewer, Depends(api_viewer)]
PageViewer = Annotated[Viewer, Depends(page_viewer)]


def check_session_csrf(viewer: PageViewer, csrf_token: Annotated[str, Form()] = "") -> Viewer:
    """A signed-in form must carry its session's CSRF token."""
    if not tokens_match(viewer.auth.csrf_token, csrf_token):
        raise HTTPException(403, "表单已失效（停留过久、已在别处退出或页面已更新）：请刷新页面后重新提交")
    return viewer


def check_anonymous_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """A form without a session (login, self-check) must echo the random cookie set with the form."""
    if not tokens_match(request.cookies.get(ANONYMOUS_CSRF_COOKIE), csrf_token):
        raise HTTPException(403, "表单已失效（停留过久、已在别处退出或页面已更新）：请刷新页面后重新提交")


CsrfViewer = Annotated[Viewer, Depends(check_session_csrf)]


def optional_viewer(request: Request) -> Viewer | None:
    """The signed-in account on a public page (for its navigation), or None."""
    auth = _page_session(request)
    return _viewer(auth, request) if auth else None


MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]


def reveal_person(session: Session, viewer: Viewer, person_id: int) -> dict[str, str | None]:
    """A person's ID number and phone in full, audited; 404 outside the scope, 403 without the permission."""
    from bangfu.registry.queries import unmask_person

    if viewer.unmask_needs_second_factor:
        raise HTTPException(403, "本平台要求查看完整个人信息的账户先启用两步验证：请在“我的账户”页面设置后再查看")
    try:
        shown = unmask_person(
            session.connection(),
            viewer.scope,
            person_id,
            actor=viewer.account.username,
            can_unmask=viewer.account.can_unmask,
            address=viewer.address,
        )
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    if shown is None:
        raise HTTPException(404, "未找到该人员（或不在您的地区范围内）")
    return dict(shown)
