"""The local-standards page: a city or county administrator sets the standards its level owns (ADR 0023).

Submitting the form first shows what the change would cost by fund on the region's stored population
(a what-if); only the confirmation saves it, audited in the request's transaction. Roles without the
``standards.set`` permission get 403; a standard the viewer's level does not own answers 403 with the
reason; a refused value is shown again beside its field (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from bangfu.access.permissions import STANDARDS_SET, PermissionRefused, require
from bangfu.policy.local_standards import Proposal
from bangfu.policy.policy_set import PolicySet
from bangfu.policy_admin import local_standards
from bangfu.policy_admin.local_standards import StandardRefused
from bangfu.policy_admin.preview import preview
from bangfu.policy_admin.standards_view import StandardForm, StandardRow, level_label, proposal_from, standard_rows
from bangfu.web.deps import CsrfViewer, Db, PageViewer, Viewer, app_context
from bangfu.web.routes.pages import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=255)]


def _allowed(viewer: Viewer) -> None:
    try:
        require(viewer.account.role, STANDARDS_SET)
    except PermissionRefused as exc:
        raise HTTPException(403, str(exc)) from None


def _row(request: Request, session: Session, viewer: Viewer, document_id: str, key: str) -> StandardRow:
    policies = app_context(request).policies
    rows = [
        r
        for r in standard_rows(session.connection(), policies, viewer.account.region_code, dt.date.today(), key)
        if r.document.id == document_id
    ]
    if not rows:
        raise HTTPException(
            403, f"{level_label(viewer.account.region_code)}账户不能设置这项标准：它不由本级制定，或政策未启用"
        )
    return rows[0]


def _detail(
    request: Request, session: Session, viewer: Viewer, row: StandardRow, *, status_code: int = 200, **context: Any
) -> Response:
    return render(
        request, "standard.html", status_code=status_code, viewer=viewer, active="standards", row=row,
        form=context.pop("form", StandardForm()), errors=context.pop("errors", {}), **context,
    )  # fmt: skip


@router.get("/admin/standards")
def standards_page(request: Request, session: Db, viewer: PageViewer) -> Response:
    _allowed(viewer)
    rows = standard_rows(
        session.connection(), app_context(request).policies, viewer.account.region_code, dt.date.today()
    )
    return render(
        request, "standards.html", viewer=viewer, active="standards", rows=rows,
        level=level_label(viewer.account.region_code), today=dt.date.today(),
    )  # fmt: skip


@router.get("/admin/standards/{document_id}/{key}")
def standard_page(
    request: Request, session: Db, viewer: PageViewer, document_id: str, key: str, saved: bool = False
) -> Response:
    _allowed(viewer)
    done = "已保存，并已记入审计日志；新标准已用于本地区的政策评估" if saved else None
    return _detail(request, session, viewer, _row(request, session, viewer, document_id, key), done=done)


def _proposal(
    request: Request, session: Session, viewer: Viewer, document_id: str, key: str, form: StandardForm
) -> tuple[StandardRow, Proposal, PolicySet]:
    """The checked proposal; StandardRefused (by field) when it cannot be saved as it stands."""
    _allowed(viewer)
    row = _row(request, session, viewer, document_id, key)
    proposal = proposal_from(form, document_id, row.parameter, viewer.account.region_code)
    policies = app_context(request).policies
    local_standards.check(policies, viewer.account, proposal)
    return row, proposal, policies


def _typed(
    value: Text = "", valid_from: Text = "", valid_to: Text = "", document_number: Text = "", document_title: Text = ""
) -> StandardForm:
    """The form's fields as typed (the preview's confirmation posts the same fields again)."""
    return StandardForm(value, valid_from, valid_to, document_number, document_title)


TypedForm = Annotated[StandardForm, Depends(_typed)]


@router.post("/admin/standards/{document_id}/{key}/preview")
def preview_standard(
    request: Request, session: Db, viewer: CsrfViewer, document_id: str, key: str, form: TypedForm
) -> Response:
    try:
        row, proposal, policies = _proposal(request, session, viewer, document_id, key, form)
    except StandardRefused as exc:
        row = _row(request, session, viewer, document_id, key)
        return _refused(request, session, viewer, row, form, exc)
    cost = preview(app_context(request).engine, policies.document(document_id), proposal)
    return render(
        request, "standard_preview.html", viewer=viewer, active="standards", row=row, form=form,
        proposal=proposal, cost=cost,
    )  # fmt: skip


def _refused(
    request: Request, session: Session, viewer: Viewer, row: StandardRow, form: StandardForm, exc: StandardRefused
) -> Response:
    if "" in exc.errors and len(exc.errors) == 1:
        raise HTTPException(403, exc.errors[""])
    return _detail(request, session, viewer, row, status_code=422, form=form, errors=exc.errors)


@router.post("/admin/standards/{document_id}/{key}")
def save_standard(
    request: Request, session: Db, viewer: CsrfViewer, document_id: str, key: str, form: TypedForm
) -> Response:
    try:
        row, proposal, policies = _proposal(request, session, viewer, document_id, key, form)
        local_standards.set_standard(session, policies, viewer.account, proposal, address=viewer.address)
        app_context(request).stored_state_changed()
    except StandardRefused as exc:
        row = _row(request, session, viewer, document_id, key)
        return _refused(request, session, viewer, row, form, exc)
    # The transaction commits when this returns, before the answer leaves: the page then reads it back.
    return RedirectResponse(f"/admin/standards/{document_id}/{key}?saved=1", status_code=303)
