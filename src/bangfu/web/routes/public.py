"""Pages without login: the policy with its clauses (built by ``web.policy_page``), and the residents' self-check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bangfu.core import regions
from bangfu.core.vocabulary import CATEGORIES
from bangfu.policy.case import CaseError, parse_case
from bangfu.policy.engine import PolicyConflictError
from bangfu.policy.evaluation import evaluate_all
from bangfu.web.citizen_answer import citizen_answer
from bangfu.web.deps import ANONYMOUS_CSRF_COOKIE, MaybeViewer, app_context, check_anonymous_csrf
from bangfu.web.plain_words import with_needs
from bangfu.web.policy_page import policy_documents, state_labels
from bangfu.web.routes.pages import render
from bangfu.web.security import new_token
from bangfu.web.self_check import ORGANIZED, QUESTIONS, WORK_PLACES, SelfCheck
from bangfu.web.set_answer import shown
from bangfu.web.views import region_name
from bangfu.web.where_to_apply import offices

router = APIRouter(include_in_schema=False)


@router.get("/policy")
def policy_page(request: Request, viewer: MaybeViewer, date: str = "") -> Response:
    """Every document as on ``date`` (today when not given): in force for the viewer's region first,
    then elsewhere, upcoming, ended; each clause once, with its provisions and standards."""
    policies = app_context(request).policies
    today = dt.date.today()
    day, date_error = today, None
    if date.strip():
        try:
            day = dt.date.fromisoformat(date.strip())
        except ValueError:
            date_error = f"日期“{date}”无效，应为 年-月-日，如 2024-06-30；下面按今天显示"
    region = viewer.account.region_code if viewer is not None else None
    return render(
        request,
        "policy.html",
        status_code=422 if date_error else 200,
        viewer=viewer,
        active="policy",
        documents=policy_documents(policies, day, region),
        states=state_labels(day, today),
        today=today,
        day=day,
        date_error=date_error,
        place=region_name(region) if region else None,
    )


def _self_check(
    request: Request, viewer: Any, form: SelfCheck, result: Any = None, error: str | None = None, status_code: int = 200
) -> Response:
    token = new_token()
    context = app_context(request)
    counties = [c for c in regions.shanxi_counties() if not c.statistics_only]
    provinces = {code: name for code, name in regions.provinces().items() if code != regions.SHANXI}
    response = render(
        request,
        "self_check.html",
        status_code=status_code,
        viewer=viewer,
        active="self_check",
        form=form,
        result=result,
        error=error,
        csrf_token=token,
        counties=counties,
        provinces=provinces,
        categories=CATEGORIES,
        work_places=WORK_PLACES,
        organized=ORGANIZED,
        questions=QUESTIONS,
        **(_answer(result, form, context.policies, context.settings.policy_dir) if result is not None else {}),
    )
    response.set_cookie(
        ANONYMOUS_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.app.state.https, path="/"
    )
    return response


def _answer(result: dict[str, Any], form: SelfCheck, policies: Any, policy_dir: Any) -> dict[str, Any]:
    """The resident's summary and where to apply first; the officials' table, reasons turned into what
    is needed, for the details."""
    citizen = citizen_answer(result, policies)
    county = str(form.values["hukou_region"]) or None
    return {
        "citizen": citizen,
        "guide": offices(policy_dir).guide(county, citizen.to_apply),
        **shown(with_needs(result, policies), policies),
    }


@router.get("/self-check")
def self_check_page(request: Request, viewer: MaybeViewer) -> Response:
    return _self_check(request, viewer, SelfCheck.blank(dt.date.today()))


@router.post("/self-check", dependencies=[Depends(check_anonymous_csrf)])
async def self_check(request: Request, viewer: MaybeViewer) -> Response:
    submitted = await request.form()
    categories = [str(c) for c in submitted.getlist("categories")]
    form = SelfCheck.from_form(submitted, categories)
    case = form.to_case()
    if case is None:
        return _self_check(request, viewer, form, error="请按提示修改标红的项目", status_code=422)
    try:
        result = evaluate_all(app_context(request).policies, parse_case(case))
    except (CaseError, PolicyConflictError) as exc:
        return _self_check(request, viewer, form, error=f"无法测算：{exc}", status_code=422)
    return _self_check(request, viewer, form, result=result)
