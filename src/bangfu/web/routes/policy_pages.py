"""The activation page: a province administrator switches programme packages on and off (ADR 0023).

Packages are the sub-folders of ``BANGFU_POLICY_DIR``; each is listed with its level, region,
validity and the result of the checks ``bangfu policy check`` runs. One that fails a check cannot be
activated; activation and deactivation are audited in the request's transaction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bangfu.access.permissions import POLICIES_ACTIVATE, PermissionRefused, require
from bangfu.policy_admin import activation
from bangfu.policy_admin.activation import ActivationRefused
from bangfu.web.deps import CsrfViewer, Db, PageViewer, Viewer, app_context
from bangfu.web.routes.pages import render

router = APIRouter(include_in_schema=False)
DONE = {"activated": "已启用，并已记入审计日志", "deactivated": "已停用，并已记入审计日志"}


def _allowed(viewer: Viewer) -> None:
    try:
        require(viewer.account.role, POLICIES_ACTIVATE)
    except PermissionRefused as exc:
        raise HTTPException(403, str(exc)) from None


def _page(request: Request, session: Session, viewer: Viewer, *, status_code: int = 200, **context: Any) -> Response:
    app = app_context(request)
    found = activation.packages(session.connection(), app.documents, app.policy_dir)
    return render(
        request, "policies_admin.html", status_code=status_code, viewer=viewer, active="policies",
        packages=found, bundled=app.documents.documents, configured=app.policy_dir is not None, **context,
    )  # fmt: skip


@router.get("/admin/policies")
def policies_page(request: Request, session: Db, viewer: PageViewer, done: str = "") -> Response:
    _allowed(viewer)
    return _page(request, session, viewer, done=DONE.get(done))


def _set(request: Request, session: Session, viewer: Viewer, folder: str, active: bool) -> Response:
    _allowed(viewer)
    app = app_context(request)
    try:
        activation.set_active(
            session, app.documents, app.policy_dir, viewer.account, folder, active, address=viewer.address
        )
    except ActivationRefused as exc:
        return _page(request, session, viewer, status_code=422, error=str(exc))
    app.stored_state_changed()
    return RedirectResponse(f"/admin/policies?done={'activated' if active else 'deactivated'}", status_code=303)


@router.post("/admin/policies/{folder}/activate")
def activate(request: Request, session: Db, viewer: CsrfViewer, folder: str) -> Response:
    return _set(request, session, viewer, folder, True)


@router.post("/admin/policies/{folder}/deactivate")
def deactivate(request: Request, session: Db, viewer: CsrfViewer, folder: str) -> Response:
    return _set(request, session, viewer, folder, False)
