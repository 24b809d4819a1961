"""The administrator page: the accounts an administrator may manage (``accounts/administration.py``),
created with a temporary password, disabled and enabled, reset, their sessions and tokens revoked.

An account outside the administrator's reach answers 404, like every other scoped read; a role that
administers nobody (township, auditor) gets 403 for the page itself.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from bangfu.accounts import administration
from bangfu.accounts.administration import Action, NotAnAdministrator, Outcome, OutOfReach
from bangfu.accounts.users import AccountError
from bangfu.web.deps import CsrfViewer, Db, PageViewer, RecordId, Viewer
from bangfu.web.routes.pages import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, session: Session, viewer: Viewer, *, status_code: int = 200, **context: Any) -> Response:
    if not administration.may_administer_accounts(viewer.account):
        raise HTTPException(403, administration.NOT_AN_ADMINISTRATOR)
    return render(
        request, "admin_users.html", status_code=status_code, viewer=viewer, active="admin",
        accounts=administration.administered(session, viewer.account),
        roles=administration.creatable_roles(viewer.account), **context,
    )  # fmt: skip


def _outcome(request: Request, session: Session, viewer: Viewer, outcome: Outcome) -> Response:
    request.app.state.tokens.forget_account(outcome.account.id)
    issued = None
    if outcome.temporary_password is not None:
        issued = {"username": outcome.account.username, "password": outcome.temporary_password}
    return _page(request, session, viewer, done=outcome.done, issued=issued)


@router.get("/admin/users")
def users_page(request: Request, session: Db, viewer: PageViewer) -> Response:
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
    try:
        outcome = administration.create_account(
            session, viewer.account, username=username, role=role, region_code=region,
            display_name=display_name, can_unmask=can_unmask, address=viewer.address,
        )  # fmt: skip
    except NotAnAdministrator as exc:
        raise HTTPException(403, str(exc)) from None
    except AccountError as exc:
        form = {"username": username, "display_name": display_name, "role": role, "region": region}
        return _page(request, session, viewer, status_code=422, error=str(exc), form=form)
    return _outcome(request, session, viewer, outcome)


@router.post("/admin/users/{user_id}/{action}")
def administer_user(request: Request, session: Db, viewer: CsrfViewer, user_id: RecordId, action: Action) -> Response:
    try:
        outcome = administration.administer(session, viewer.account, user_id, action, address=viewer.address)
    except NotAnAdministrator as exc:
        raise HTTPException(403, str(exc)) from None
    except OutOfReach as exc:
        raise HTTPException(404, str(exc)) from None
    except AccountError as exc:
        return _page(request, session, viewer, status_code=422, error=str(exc))
    return _outcome(request, session, viewer, outcome)
