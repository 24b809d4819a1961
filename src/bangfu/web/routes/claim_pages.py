"""The claim pages (ADR 0032): the queue of each role, one claim with its decision forms, and a person's
application started by a township assistant (on a phone).

Every read is scoped (``claims.queue``); every action goes through ``web.claim_actions`` into
``claims.decisions``, which writes the claim event and its audit entry in the request's transaction. A
refused form is shown again with the message beside its field (422, 403, 404 or 409), and nothing changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from bangfu.access.permissions import CLAIMS_DRAFT, REFUSALS, holds
from bangfu.claims.queue import (
    CLAIM_SORTS,
    DEFAULT_SORT,
    ClaimFilters,
    benefit_ids,
    claim_detail,
    search_claims,
)
from bangfu.claims.records import STATUS_LABELS
from bangfu.policy.model import FUNDS
from bangfu.registry import queries
from bangfu.store.claim_tables import CLAIM_STATUSES
from bangfu.web.claim_actions import ACTION_LABELS, NOT_FOUND, Refused, act, actions_for, draft, offers
from bangfu.web.deps import CsrfViewer, Db, PageViewer, RecordId, Viewer, app_context
from bangfu.web.people_listing import PER_PAGE_CHOICES, FieldError, page_numbers
from bangfu.web.routes.pages import render

router = APIRouter(include_in_schema=False)

Reason = Annotated[str, Form(max_length=2000)]
# The queue's tabs: (label, filters) — what a county officer works through, in order.
VIEWS: tuple[tuple[str, dict[str, str]], ...] = (
    ("待审核", {"status": "checked", "flagged": "no"}),
    ("未通过自动审核", {"status": "checked", "flagged": "yes"}),
    ("已退回修改", {"status": "returned"}),
    ("已批准", {"status": "approved"}),
    ("全部", {}),
)
FILTER_KEYS = ("status", "benefit", "fund", "flagged")


def claims_url(values: dict[str, Any], **changes: object) -> str:
    """The queue's URL with ``changes``; empty values left out."""
    merged = {k: v for k, v in ({**values, **changes}).items() if v not in ("", None)}
    return "/claims" + (f"?{urlencode(merged)}" if merged else "")


def _listing(sort: str, per_page: str, page: str) -> tuple[str, int, int, FieldError | None]:
    key = sort.strip() or DEFAULT_SORT
    if key.removeprefix("-") not in CLAIM_SORTS:
        return DEFAULT_SORT, PER_PAGE_CHOICES[0], 1, FieldError(f"排序方式“{key}”无效，请从列表中选择", "sort")
    size = int(per_page) if per_page.strip().isdigit() else 0
    if size not in PER_PAGE_CHOICES:
        choices = "、".join(str(n) for n in PER_PAGE_CHOICES)
        return key, PER_PAGE_CHOICES[0], 1, FieldError(f"每页条数应为 {choices} 之一，实为“{per_page}”", "per_page")
    number = int(page) if page.strip().isdigit() else 0
    if number < 1:
        return key, size, 1, FieldError(f"页码应为从 1 开始的整数，实为“{page}”", "page")
    return key, size, number, None


@router.get("/claims")
def claims_page(
    request: Request,
    session: Db,
    viewer: PageViewer,
    status: str = "",
    benefit: str = "",
    fund: str = "",
    flagged: str = "",
    sort: str = "",
    per_page: str = "20",
    page: str = "1",
) -> Response:
    policies = app_context(request).policies
    filters = ClaimFilters(status.strip(), benefit.strip(), fund.strip(), flagged.strip())
    values: dict[str, Any] = {k: getattr(filters, k) for k in FILTER_KEYS}
    sort_key, size, number, error = _listing(sort, per_page, page)
    values |= {"sort": sort_key if sort_key != DEFAULT_SORT else "", "per_page": size if size != 20 else ""}
    found = None
    if error is None:
        try:
            found = search_claims(
                session.connection(), viewer.scope, viewer.account.username, policies, filters,
                sort=sort_key, page=number, per_page=size,
            )  # fmt: skip
        except queries.QueryError as exc:
            error = FieldError(str(exc), exc.field)
    benefits = [(b, getattr(policies.benefit(b), "label", b)) for b in benefit_ids(policies)]
    sort_choices = [(key, label) for key, (label, _) in CLAIM_SORTS.items()]
    sort_choices = [(f"-{key}", f"{label}（从近到远、从大到小）") for key, label in sort_choices] + sort_choices
    return render(
        request, "claims.html", status_code=422 if error else 200, viewer=viewer, active="claims",
        filters=values, sort=sort_key, per_page=size, found=found, error=error, views=VIEWS,
        statuses=[(s, STATUS_LABELS[s]) for s in CLAIM_STATUSES], benefits=benefits,
        funds=[(k, v) for k, v in FUNDS.items() if k != "none"], sort_choices=sort_choices,
        per_page_choices=PER_PAGE_CHOICES, claims_url=claims_url, page_numbers=page_numbers,
        may_draft=holds(viewer.account.role, CLAIMS_DRAFT),
    )  # fmt: skip


def _claim(
    request: Request, session: Db, viewer: Viewer, claim_id: int, *, status_code: int = 200, **context: Any
) -> Response:
    policies = app_context(request).policies
    detail = claim_detail(session.connection(), viewer.scope, viewer.account.username, policies, claim_id)
    if detail is None:
        raise HTTPException(404, NOT_FOUND)
    return render(
        request, "claim.html", status_code=status_code, viewer=viewer, active="claims", claim=detail,
        actions=actions_for(viewer.account, detail), action_labels=ACTION_LABELS,
        **{"error": None, "failed_action": None, "done": None, "reason": "", **context},
    )  # fmt: skip


DONE = {action: f"已{label}，并已记入审计日志" for action, label in ACTION_LABELS.items()}
DONE["drafted"] = "申报已提交：已起草并完成自动审核，等待县级审批"


@router.get("/claims/new")
def application_page(request: Request, session: Db, viewer: PageViewer, q: str = "", person: str = "") -> Response:
    """Step 1: find a person of the township (name or ID fragment); step 2: their benefits today."""
    return _application(request, session, viewer, q=q.strip(), person=person.strip())


def _application(
    request: Request,
    session: Db,
    viewer: Viewer,
    *,
    q: str = "",
    person: str = "",
    status_code: int = 200,
    error: FieldError | None = None,
) -> Response:
    if not holds(viewer.account.role, CLAIMS_DRAFT):
        raise HTTPException(403, REFUSALS[CLAIMS_DRAFT])
    connection = session.connection()
    policies = app_context(request).policies
    found = chosen = None
    choices: list[Any] = []
    today = dt.date.today()
    if person:
        person_id = int(person) if person.isdigit() and len(person) < 19 else 0
        chosen = queries.person_detail(connection, viewer.scope, person_id, policies) if person_id else None
        if chosen is None:
            raise HTTPException(404, "未找到该人员（或不在您的地区范围内）")
        choices = offers(connection, policies, person_id, today)
    elif q:
        # A leading digit is an ID number (found whole, and the lookup audited, as the people search does).
        by_number = q[:1].isdigit()
        try:
            found = queries.search_people(
                connection, viewer.scope, id_number=q.replace(" ", "") if by_number else None,
                name=None if by_number else q, per_page=20, searched_by=viewer.reader,
            )  # fmt: skip
        except queries.QueryError as exc:
            error = FieldError(str(exc), "q")
            status_code = 422
    return render(
        request, "claim_new.html", status_code=status_code, viewer=viewer, active="claims", q=q, found=found,
        chosen=chosen, choices=choices, error=error, today=today,
    )  # fmt: skip


@router.post("/claims/new")
def submit_application(
    request: Request,
    session: Db,
    viewer: CsrfViewer,
    person: Annotated[str, Form(max_length=20)] = "",
    benefit: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not person.isdigit() or len(person) > 18:
        raise HTTPException(404, "未找到该人员（或不在您的地区范围内）")
    try:
        claim_id = draft(
            session.connection(), viewer, app_context(request).policies, int(person), benefit, dt.date.today()
        )
    except Refused as exc:
        if exc.status_code in (403, 404):
            raise HTTPException(exc.status_code, exc.message) from None
        error = FieldError(exc.message, "benefit")
        return _application(request, session, viewer, person=person, status_code=exc.status_code, error=error)
    return RedirectResponse(f"/claims/{claim_id}?done=drafted", status_code=303)


@router.get("/claims/{claim_id}")
def claim_page(request: Request, session: Db, viewer: PageViewer, claim_id: RecordId, done: str = "") -> Response:
    return _claim(request, session, viewer, claim_id, done=DONE.get(done))


@router.post("/claims/{claim_id}/{action}")
def claim_action(
    request: Request,
    session: Db,
    viewer: CsrfViewer,
    claim_id: RecordId,
    action: str,
    reason: Reason = "",
    seen_status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        act(
            session.connection(), viewer, app_context(request).policies, claim_id, action,
            reason=reason, seen_status=seen_status,
        )  # fmt: skip
    except Refused as exc:
        if exc.status_code == 404:
            raise HTTPException(404, exc.message) from None
        return _claim(
            request, session, viewer, claim_id, status_code=exc.status_code,
            error=FieldError(exc.message, exc.field), failed_action=action, reason=reason,
        )  # fmt: skip
    return RedirectResponse(f"/claims/{claim_id}?done={action}", status_code=303)
