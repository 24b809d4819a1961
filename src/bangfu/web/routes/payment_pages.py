"""Payment batch pages (支付批次): the list, a batch with its lines, the bank file, the bank's return,
reconciliation. County and up act; an auditor reads; a township sees none (``web.payment_actions``).

Each action is a CSRF-protected form that runs one step of ``claims.payments`` and comes back to the
batch (POST, redirect, GET); a refused step shows its Chinese reason on the page it came from.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from bangfu.claims.drafting import Payee
from bangfu.claims.payment_views import (
    BatchFilters,
    batch_lines,
    batch_summary,
    batch_tally,
    failed_lines_to_act_on,
    list_batches,
    reconciliation,
)
from bangfu.claims.payments import BATCH_LABELS
from bangfu.policy.model import FUNDS
from bangfu.registry.queries import QueryError
from bangfu.web import payment_actions as steps
from bangfu.web.deps import CsrfViewer, PageViewer, RecordId, Viewer
from bangfu.web.payment_actions import NOT_FOUND, StepRefused
from bangfu.web.routes.pages import render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=200)]
DONE = {
    "built": "已生成支付批次，请由另一名工作人员核对后批准",
    "approved": "已批准：可以下载银行文件",
    "reconciled": "对账完成",
    "reissued": "已改为新账户：该申报将列入下一个支付批次",
}


def _filters(fund: str, county: str, status: str) -> BatchFilters:
    return BatchFilters(fund or None, county or None, status or None)


def _list_page(
    request: Request,
    viewer: Viewer,
    filters: BatchFilters,
    page: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    steps.require_view(viewer)
    found = None
    query_error = None
    try:
        found = steps.read(request, lambda c: list_batches(c, viewer.scope, filters, page=page))
    except QueryError as exc:
        query_error = str(exc)
        status_code = 422
    waiting = steps.read(request, lambda c: failed_lines_to_act_on(c, viewer.scope))
    given = {k: v for k, v in (("fund", filters.fund), ("county", filters.county), ("status", filters.status)) if v}
    return render(
        request,
        "payments.html",
        status_code=status_code,
        viewer=viewer,
        active="payments",
        found=found,
        filters=filters,
        query=urlencode(given),
        query_error=query_error,
        error=error,
        form=form or {},
        waiting=waiting,
        funds=FUNDS,
        statuses=BATCH_LABELS,
        counties=steps.counties(viewer),
        may_act=steps.may_act(viewer),
    )


@router.get("/payments")
def payments_page(
    request: Request,
    viewer: PageViewer,
    fund: Annotated[str, Query(max_length=32)] = "",
    county: Annotated[str, Query(max_length=12)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return _list_page(request, viewer, _filters(fund, county, status), page)


@router.post("/payments/build")
def build_batch(
    request: Request,
    viewer: CsrfViewer,
    fund: Annotated[str, Form(max_length=32)] = "",
    county: Annotated[str, Form(max_length=12)] = "",
    payer_bank: Text = "",
) -> Response:
    form = {"fund": fund, "county": county, "payer_bank": payer_bank}
    try:
        built = steps.build(request, viewer, fund, county, payer_bank)
    except StepRefused as exc:
        return _list_page(request, viewer, BatchFilters(), 1, error=str(exc), form=form, status_code=409)
    if built.batch_id is None:
        missing = (
            f"；另有 {len(built.without_account)} 笔已批准的申报缺收款账户，请先补录" if built.without_account else ""
        )
        message = f"没有可列入批次的已批准申报（该县该资金下）{missing}"
        return _list_page(request, viewer, BatchFilters(), 1, error=message, form=form, status_code=409)
    return RedirectResponse(f"/payments/{built.batch_id}?done=built", status_code=303)


@router.get("/payments/returns")
def return_page(request: Request, viewer: PageViewer) -> Response:
    steps.require_view(viewer)
    return render(
        request, "payment_return.html", viewer=viewer, active="payments", may_act=steps.may_act(viewer), report=None
    )


@router.post("/payments/returns")
def upload_return(request: Request, viewer: CsrfViewer, file: Annotated[UploadFile | None, File()] = None) -> Response:
    try:
        name, report = steps.import_return(request, viewer, file)
    except StepRefused as exc:
        return render(
            request,
            "payment_return.html",
            status_code=422,
            viewer=viewer,
            active="payments",
            may_act=steps.may_act(viewer),
            report=None,
            error=str(exc),
        )
    return render(
        request,
        "payment_return.html",
        viewer=viewer,
        active="payments",
        may_act=steps.may_act(viewer),
        report=report,
        file_name=name,
    )


@router.get("/payments/reconciliation")
def reconciliation_page(
    request: Request,
    viewer: PageViewer,
    fund: Annotated[str, Query(max_length=32)] = "",
    county: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    steps.require_view(viewer)
    filters = _filters(fund, county, "")
    rows: list[Any] = []
    error = None
    try:
        rows = steps.read(request, lambda c: reconciliation(c, viewer.scope, filters))
    except QueryError as exc:
        error = str(exc)
    return render(
        request,
        "payment_reconciliation.html",
        status_code=422 if error else 200,
        viewer=viewer,
        active="payments",
        rows=rows,
        filters=filters,
        error=error,
        funds=FUNDS,
        counties=steps.counties(viewer),
    )


def _batch_page(
    request: Request, viewer: Viewer, batch_id: int, *, done: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    steps.require_view(viewer)

    def load(connection: Any) -> Any:
        summary = batch_summary(connection, viewer.scope, batch_id)
        if summary is None:
            return None
        return summary, batch_lines(connection, viewer.scope, batch_id) or [], batch_tally(connection, batch_id)

    loaded = steps.read(request, load)
    if loaded is None:
        raise HTTPException(404, NOT_FOUND)
    summary, lines, tally = loaded
    return render(
        request,
        "payment_batch.html",
        status_code=status_code,
        viewer=viewer,
        active="payments",
        batch=summary,
        lines=lines,
        tally=tally,
        done=DONE.get(done),
        error=error,
        may_act=steps.may_act(viewer),
        may_approve=steps.may_act(viewer) and summary.status == "built" and summary.maker != viewer.account.username,
    )


@router.get("/payments/{batch_id}")
def batch_page(request: Request, viewer: PageViewer, batch_id: RecordId, done: str = "") -> Response:
    return _batch_page(request, viewer, batch_id, done=done)


@router.post("/payments/{batch_id}/approve")
def approve_batch(request: Request, viewer: CsrfViewer, batch_id: RecordId) -> Response:
    try:
        steps.approve(request, viewer, batch_id)
    except StepRefused as exc:
        return _batch_page(request, viewer, batch_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/payments/{batch_id}?done=approved", status_code=303)


@router.post("/payments/{batch_id}/reconcile")
def reconcile_batch(request: Request, viewer: CsrfViewer, batch_id: RecordId) -> Response:
    try:
        steps.reconcile(request, viewer, batch_id)
    except StepRefused as exc:
        return _batch_page(request, viewer, batch_id, error=str(exc), status_code=409)
    return RedirectResponse(f"/payments/{batch_id}?done=reconciled", status_code=303)


@router.post("/payments/{batch_id}/lines/{payment_id}/reissue")
def reissue_line(
    request: Request,
    viewer: CsrfViewer,
    batch_id: RecordId,
    payment_id: RecordId,
    name: Text = "",
    account: Annotated[str, Form(max_length=64)] = "",
    bank: Text = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        steps.reissue(request, viewer, batch_id, payment_id, Payee(name.strip(), account, bank.strip() or None), reason)
    except StepRefused as exc:
        return _batch_page(request, viewer, batch_id, error=str(exc), status_code=422)
    return RedirectResponse(f"/payments/{batch_id}?done=reissued", status_code=303)


@router.get("/payments/{batch_id}/download/{layout}")
def download_bank_file(request: Request, viewer: PageViewer, batch_id: RecordId, layout: str) -> Response:
    try:
        return steps.bank_file(request, viewer, batch_id, layout)
    except StepRefused as exc:
        return _batch_page(request, viewer, batch_id, error=str(exc), status_code=409)
