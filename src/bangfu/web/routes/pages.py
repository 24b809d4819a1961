"""Signed-in pages: login and logout, the dashboard, people, a person, organizations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bangfu.accounts.sessions import LoginFailed, LoginThrottled, revoke
from bangfu.core import region_names
from bangfu.core.vocabulary import CATEGORIES, CATEGORY_LABELS, ORGANIZATION_KINDS, WORK_SITUATIONS
from bangfu.policy.case import parse_case
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.model import FUNDS
from bangfu.registry import queries
from bangfu.registry.stored_cases import stored_case
from bangfu.reports.areas import breakdown
from bangfu.reports.dashboard import dashboard
from bangfu.web.deps import (
    ANONYMOUS_CSRF_COOKIE,
    PAGE_COOKIE,
    CsrfViewer,
    Db,
    PageViewer,
    RecordId,
    app_context,
    check_anonymous_csrf,
    keep_device,
    reveal_person,
    sign_in_request,
)
from bangfu.web.exports import organizations_roster, people_roster
from bangfu.web.people_listing import FieldError, people_listing, people_listing_helpers
from bangfu.web.security import new_token
from bangfu.web.set_answer import shown
from bangfu.web.worker_counts import worker_count_notes

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    return response


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an absolute URL or a scheme-relative //host (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_form(request: Request, *, error: str | None = None, next_path: str = "/", status_code: int = 200) -> Response:
    token = new_token()
    response = render(
        request,
        "login.html",
        status_code=status_code,
        viewer=None,
        active="login",
        csrf_token=token,
        error=error,
        next_path=safe_next(next_path),
    )
    response.set_cookie(
        ANONYMOUS_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.https, path="/"
    )
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return login_form(request, next_path=next)


@router.post("/login", dependencies=[Depends(check_anonymous_csrf)])
def login(
    request: Request,
    session: Db,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    if not username or not password:
        return login_form(request, error="请输入用户名和口令", next_path=next, status_code=400)
    try:
        signed_in = sign_in_request(request, username, password)
    except LoginThrottled as exc:
        return login_form(request, error=str(exc), next_path=next, status_code=429)
    except LoginFailed as exc:
        return login_form(request, error=str(exc), next_path=next, status_code=401)
    # Imported here: account_pages builds on this module's render().
    from bangfu.web.routes.account_pages import after_password

    response = after_password(request, session, signed_in.account, next)
    keep_device(request, response, signed_in)
    return response


@router.post("/logout")
def logout(request: Request, session: Db, viewer: CsrfViewer) -> Response:
    token = request.cookies.get(PAGE_COOKIE)
    if token:
        revoke(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(PAGE_COOKIE, path="/", secure=request.app.state.https, httponly=True, samesite="strict")
    return response


def people_link(**filters: str | None) -> str:
    """The people list with ``filters`` (those given): where a dashboard figure leads."""
    given = {key: value for key, value in filters.items() if value}
    return "/people" + (f"?{urlencode(given)}" if given else "")


def ledger_link(fund: str, year: int | None) -> str:
    """The entries a money figure sums (the 已发放明细 page), in the viewer's own region."""
    return "/ledger?" + urlencode({"fund": fund, **({"year": year} if year else {})})


@router.get("/")
def dashboard_page(request: Request, session: Db, viewer: PageViewer) -> Response:
    connection = session.connection()
    board = dashboard(connection, viewer.scope)
    charts = {
        "categories": [(CATEGORY_LABELS[c], board.categories.get(c, 0), people_link(category=c)) for c in CATEGORIES],
        "work": [(label, board.work.get(key, 0), people_link(work=key)) for key, label in WORK_SITUATIONS.items()],
        "funds": [
            (FUNDS.get(fund, "其他"), fen, ledger_link(fund, board.as_of.year if board.as_of else None))
            for fund, fen in sorted(board.funds.items())
        ],
    }
    return render(
        request, "dashboard.html", viewer=viewer, active="dashboard", board=board, charts=charts,
        areas=breakdown(connection, viewer.scope), work_situations=WORK_SITUATIONS, people_link=people_link,
    )  # fmt: skip


@router.get("/people")
def people_page(
    request: Request,
    session: Db,
    viewer: PageViewer,
    id_number: str = "",
    name: str = "",
    region: str = "",
    category: str = "",
    sort: str = "name",
    per_page: str = "20",
    page: str = "1",
    work: str = "",
    village: str = "",
) -> Response:
    filters = {
        "id_number": id_number.strip(),
        "name": name.strip(),
        "region": region.strip(),
        "category": category,
        "work": work,
        "village": village.strip(),
    }
    listing = people_listing(sort, per_page, page)
    error = listing.error
    found = None
    # A province holds millions: list only once something is asked (a township's list is short enough).
    if error is None and (any(filters.values()) or viewer.scope.level == "township"):
        try:
            found = queries.search_people(
                session.connection(),
                viewer.scope,
                id_number=filters["id_number"] or None,
                name=filters["name"] or None,
                region=filters["region"] or None,
                category=filters["category"] or None,
                work=filters["work"] or None,
                village=filters["village"] or None,
                sort=listing.sort,
                page=listing.page,
                per_page=listing.per_page,
                searched_by=viewer.reader,
            )
        except queries.QueryError as exc:
            error = FieldError(str(exc), exc.field)
    template = "partials/people_search.html" if request.headers.get("HX-Request") else "people.html"
    return render(
        request,
        template,
        status_code=422 if error else 200,
        viewer=viewer,
        active="people",
        filters=filters,
        listing=listing,
        found=found,
        error=error,
        categories=CATEGORIES,
        work_situations=WORK_SITUATIONS,
        region_choices=region_names.names_within(viewer.scope.region_code),
        **people_listing_helpers(),
    )


def _evaluation_day(text: str | None) -> tuple[dt.date, str | None]:
    if not text:
        return dt.date.today(), None
    try:
        return dt.date.fromisoformat(text), None
    except ValueError:
        return dt.date.today(), f"评估日期“{text}”无效，应为 年-月-日，如 2024-06-30；已按今天评估"


def _person_page(
    request: Request,
    session: Db,
    viewer: PageViewer,
    person_id: RecordId,
    date: str | None,
    unmasked: dict[str, Any] | None = None,
) -> Response:
    connection = session.connection()
    detail = queries.person_detail(connection, viewer.scope, person_id, app_context(request).policies)
    if detail is None:
        raise HTTPException(404, "未找到该人员（或不在您的地区范围内）")
    day, date_error = _evaluation_day(date)
    policies = app_context(request).policies
    result = evaluate_all(policies, parse_case(stored_case(connection, "person", person_id, day)))
    return render(
        request,
        "person.html",
        viewer=viewer,
        active="people",
        person=detail,
        day=day,
        date_error=date_error,
        unmasked=unmasked,
        offer_last_day=True,
        **shown(result, policies),
    )


@router.get("/people/export")
def people_export(
    request: Request,
    session: Db,
    viewer: PageViewer,
    id_number: str = "",
    name: str = "",
    region: str = "",
    category: str = "",
    work: str = "",
    village: str = "",
) -> Response:
    """The roster of what the list shows: the same filters (not its page or order)."""
    filters = queries.PeopleFilters(id_number, name, region, category, work, village)
    try:
        return people_roster(request, viewer, filters)
    except queries.QueryError:
        # The list with the same filters shows the message beside the field it is about.
        return people_page(
            request, session, viewer, id_number=id_number, name=name, region=region, category=category, work=work,
            village=village,
        )  # fmt: skip


@router.get("/people/{person_id}")
def person_page(
    request: Request, session: Db, viewer: PageViewer, person_id: RecordId, date: str | None = None
) -> Response:
    return _person_page(request, session, viewer, person_id, date)


@router.post("/people/{person_id}/unmask")
def unmask_person(request: Request, session: Db, viewer: CsrfViewer, person_id: RecordId) -> Response:
    shown = reveal_person(session, viewer, person_id)
    return _person_page(request, session, viewer, person_id, None, unmasked=shown)


@router.get("/organizations")
def organizations_page(
    request: Request, session: Db, viewer: PageViewer, name: str = "", kind: str = "", region: str = "", page: int = 1
) -> Response:
    filters = {"name": name.strip(), "kind": kind, "region": region.strip()}
    error = None
    found = None
    try:
        found = queries.search_organizations(
            session.connection(),
            viewer.scope,
            name=filters["name"] or None,
            kind=filters["kind"] or None,
            region=filters["region"] or None,
            page=max(page, 1),
            per_page=20,
        )
    except queries.QueryError as exc:
        error = str(exc)
    return render(
        request,
        "organizations.html",
        status_code=422 if error else 200,
        viewer=viewer,
        active="organizations",
        filters=filters,
        found=found,
        error=error,
        kinds=ORGANIZATION_KINDS,
        export_query=urlencode({key: value for key, value in filters.items() if value}),
    )


@router.get("/organizations/export")
def organizations_export(
    request: Request, session: Db, viewer: PageViewer, name: str = "", kind: str = "", region: str = ""
) -> Response:
    """The list of what the search shows: the same filters (not its page)."""
    try:
        return organizations_roster(request, viewer, queries.OrganizationFilters(name, kind, region))
    except queries.QueryError:
        return organizations_page(request, session, viewer, name=name, kind=kind, region=region)


@router.get("/organizations/{org_id}")
def organization_page(
    request: Request, session: Db, viewer: PageViewer, org_id: RecordId, date: str | None = None
) -> Response:
    connection = session.connection()
    detail = queries.organization_detail(connection, viewer.scope, org_id, app_context(request).policies)
    if detail is None:
        raise HTTPException(404, "未找到该单位（或不在您的地区范围内）")
    day, date_error = _evaluation_day(date)
    policies = app_context(request).policies
    result = evaluate_all(policies, parse_case(stored_case(connection, "organization", org_id, day)))
    return render(
        request,
        "organization.html",
        viewer=viewer,
        active="organizations",
        org=detail,
        worker_notes=worker_count_notes(detail),
        day=day,
        date_error=date_error,
        offer_last_day=True,
        **shown(result, policies),
    )
