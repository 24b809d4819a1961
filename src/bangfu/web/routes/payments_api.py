"""The payment-batch API under /api/v1/payment-batches: the same steps, scope and refusals as the pages
(``web.payment_actions``), for the bank-facing tools of a county's finance office."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from bangfu.claims.payment_views import BatchFilters, batch_lines, batch_summary, batch_tally, list_batches
from bangfu.claims.payment_views import reconciliation as reconciliation_rows
from bangfu.web import payment_actions as steps
from bangfu.web.api_models import SIGNED_IN, errors
from bangfu.web.deps import ApiViewer, RecordId, Viewer
from bangfu.web.payment_actions import NOT_FOUND, StepRefused
from bangfu.web.payment_models import (
    BANK_FILE_ANSWER,
    REFUSED,
    TOO_LARGE,
    ApprovedBatch,
    BuildBatch,
    BuiltBatch,
    PaymentBatchDetail,
    PaymentBatchPage,
    ReconciledBatch,
    Reconciliation,
    ReturnImport,
)

router = APIRouter(prefix="/api/v1/payment-batches", tags=["payments"])

FUND = Annotated[
    str | None, Query(max_length=32, description="资金：revitalization、employment 或 unemployment_insurance")
]
COUNTY = Annotated[str | None, Query(max_length=12, description="县的 6 位行政区划代码")]


def _refused(exc: StepRefused, status: int = 409) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=status)


def _summary(request: Request, viewer: Viewer, batch_id: int) -> object:
    found = steps.read(request, lambda c: batch_summary(c, viewer.scope, batch_id))
    if found is None:
        raise HTTPException(404, NOT_FOUND)
    return found


@router.get(
    "",
    response_model=PaymentBatchPage,
    responses=errors(*SIGNED_IN, 403),
    summary="本账号地区的支付批次（新的在前），可按资金、县、状态筛选；分页",
)
def list_payment_batches(
    request: Request,
    viewer: ApiViewer,
    fund: FUND = None,
    county: COUNTY = None,
    status: Annotated[
        str | None, Query(max_length=16, description="built、approved、exported、returned 或 reconciled")
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> object:
    steps.require_view(viewer)
    filters = BatchFilters(fund or None, county or None, status or None)
    return steps.read(request, lambda c: list_batches(c, viewer.scope, filters, page=page, per_page=per_page))


@router.post(
    "",
    response_model=BuiltBatch,
    responses={**errors(*SIGNED_IN, 403), **REFUSED},
    summary="生成支付批次：该县该资金下全部已批准、有收款账户的申报",
)
def build_payment_batch(request: Request, viewer: ApiViewer, body: BuildBatch) -> object:
    try:
        built = steps.build(request, viewer, body.fund, body.county, body.payer_bank)
    except StepRefused as exc:
        return _refused(exc)
    return BuiltBatch(
        batch_id=built.batch_id, lines=built.lines, total_fen=built.total_fen, without_account=built.without_account
    )


@router.get(
    "/reconciliation",
    response_model=Reconciliation,
    responses=errors(*SIGNED_IN, 403),
    summary="对账汇总：每县每种资金的支付成功、失败、退汇、待处理笔数与金额（分）",
)
def payment_reconciliation(request: Request, viewer: ApiViewer, fund: FUND = None, county: COUNTY = None) -> object:
    steps.require_view(viewer)
    filters = BatchFilters(fund or None, county or None)
    return Reconciliation(items=steps.read(request, lambda c: reconciliation_rows(c, viewer.scope, filters)))


@router.post(
    "/returns",
    response_model=ReturnImport,
    responses={**errors(*SIGNED_IN, 403), **TOO_LARGE},
    summary="导入银行回单（CSV 或 XLSX，格式见 docs/payments.md）；重复导入不改变任何记录；格式错误答 422",
)
def import_payment_return(
    request: Request,
    viewer: ApiViewer,
    file: Annotated[UploadFile, File(description="银行回单文件")],
) -> object:
    try:
        name, report = steps.import_return(request, viewer, file)
    except StepRefused as exc:
        return _refused(exc, 422)
    return ReturnImport(file=name, applied=report.applied, unchanged=report.unchanged, problems=report.problems)


@router.get(
    "/{batch_id}",
    response_model=PaymentBatchDetail,
    responses=errors(*SIGNED_IN, 403, 404),
    summary="一个支付批次：概况、支付明细（收款账号脱敏）、对账结果",
)
def payment_batch(request: Request, viewer: ApiViewer, batch_id: RecordId) -> object:
    steps.require_view(viewer)
    summary = _summary(request, viewer, batch_id)
    lines = steps.read(request, lambda c: batch_lines(c, viewer.scope, batch_id)) or []
    tally = steps.read(request, lambda c: batch_tally(c, batch_id))
    return {"batch": summary, "lines": lines, "tally": tally}


@router.post(
    "/{batch_id}/approve",
    response_model=ApprovedBatch,
    responses={**errors(*SIGNED_IN, 403, 404), **REFUSED},
    summary="批准支付批次（批准人不能是经办人）；记录支付明细的内容哈希",
)
def approve_payment_batch(request: Request, viewer: ApiViewer, batch_id: RecordId) -> object:
    try:
        digest = steps.approve(request, viewer, batch_id)
    except StepRefused as exc:
        return _refused(exc)
    return {"batch": _summary(request, viewer, batch_id), "content_hash": digest}


@router.post(
    "/{batch_id}/reconcile",
    response_model=ReconciledBatch,
    responses={**errors(*SIGNED_IN, 403, 404), **REFUSED},
    summary="按已导入的回单对账本批次：成功的写入已享受记录，失败的申报转为支付失败，退汇的冲回",
)
def reconcile_payment_batch(request: Request, viewer: ApiViewer, batch_id: RecordId) -> object:
    try:
        done = steps.reconcile(request, viewer, batch_id)
    except StepRefused as exc:
        return _refused(exc)
    return {
        "batch": _summary(request, viewer, batch_id),
        "paid": done.paid,
        "failed": done.failed,
        "reversed": done.reversed,
    }


@router.get(
    "/{batch_id}/bank-file",
    response_class=FileResponse,
    responses={200: BANK_FILE_ANSWER, **errors(*SIGNED_IN, 403, 404), **REFUSED},
    summary="下载已批准批次的银行文件（含完整收款账号，先记入审计日志再发送）；批准后被改动的批次不生成",
)
def payment_bank_file(
    request: Request,
    viewer: ApiViewer,
    batch_id: RecordId,
    layout: Annotated[Literal["csv", "xlsx"], Query(description="csv 或 xlsx")] = "csv",
) -> Response:
    try:
        return steps.bank_file(request, viewer, batch_id, layout)
    except StepRefused as exc:
        return _refused(exc)
