"""What the payment pages and the payment API share: who may, within which scope, and each batch step.

The steps are ``claims.payments``' own (build, approve, export, import the return, reconcile,
re-issue), each in a transaction of its own: a refused step rolls back whole and its Chinese reason
is shown, never half-applied. A batch outside the account's scope is answered 404, as if absent.
The bank file is written and its audit entry committed before a byte of it is sent
(``exports.sent_after_recording``); the return file is copied to a private temporary folder, read by
the registry's defensive reader and deleted.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import HTTPException, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import Connection, select

from bangfu.access.permissions import PAYMENTS_ACT, PAYMENTS_VIEW, REFUSALS, holds
from bangfu.claims import payments
from bangfu.claims.bank_files import ReturnFileError
from bangfu.claims.decisions import Actor
from bangfu.claims.drafting import Payee
from bangfu.claims.payment_views import batch_in_scope
from bangfu.claims.records import ClaimError
from bangfu.core import regions
from bangfu.core.account_cipher import AccountCipher
from bangfu.policy.model import FUNDS
from bangfu.web.deps import Viewer, app_context
from bangfu.web.exports import XLSX, sent_after_recording
from bangfu.web.uploads import copy_upload, safe_name

T = TypeVar("T")
LAYOUTS = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
RETURN_SUFFIXES = (".csv", ".xlsx")
NOT_FOUND = "未找到该支付批次（或不在您的地区范围内）"


class StepRefused(Exception):
    """A batch step refused (maker approving, changed batch, bad account …): the reason in Chinese."""


def may_see(viewer: Viewer) -> bool:
    return holds(viewer.account.role, PAYMENTS_VIEW)


def may_act(viewer: Viewer) -> bool:
    return holds(viewer.account.role, PAYMENTS_ACT)


def require_view(viewer: Viewer) -> None:
    if not may_see(viewer):
        raise HTTPException(403, REFUSALS[PAYMENTS_VIEW])


def require_act(viewer: Viewer) -> None:
    require_view(viewer)
    if not may_act(viewer):
        raise HTTPException(403, REFUSALS[PAYMENTS_ACT])


def actor(viewer: Viewer) -> Actor:
    return Actor(viewer.account.username)


def read(request: Request, work: Callable[[Connection], T]) -> T:
    with app_context(request).engine.connect() as connection:
        return work(connection)


def _step(request: Request, work: Callable[[Connection], T]) -> T:
    """``work`` in a transaction of its own: committed when it returns, rolled back whole when refused."""
    try:
        with app_context(request).engine.begin() as connection:
            return work(connection)
    except (ClaimError, ReturnFileError) as exc:  # PaymentError is a ClaimError
        raise StepRefused(str(exc)) from None


def _in_scope(connection: Connection, viewer: Viewer, batch_id: int) -> Any:
    batch = batch_in_scope(connection, viewer.scope, batch_id)
    if batch is None:
        raise HTTPException(404, NOT_FOUND)
    return batch


def counties(viewer: Viewer) -> list[tuple[str, str]]:
    """The counties of the account's scope, as (code, name), for the build form and the filters."""
    return [(code, regions.name_of(code) or code) for code in viewer.scope.county_codes]


def build(request: Request, viewer: Viewer, fund: str, county: str, payer_bank: str) -> payments.Built:
    require_act(viewer)
    if fund not in FUNDS:  # the core's message names the codes; a reader chooses among the labels
        raise StepRefused(f"资金“{fund}”不存在：请从列表中选择（{'、'.join(FUNDS.values())}）")
    county = county.strip()
    if county not in viewer.scope.county_codes or viewer.scope.level == "township":
        raise StepRefused(f"县“{county or '（未选）'}”不在您的地区范围内：请从列表中选择本地区的县")

    def work(connection: Connection) -> payments.Built:
        return payments.build_batch(connection, fund=fund, region=county, payer_bank=payer_bank, actor=actor(viewer))

    return _step(request, work)


def approve(request: Request, viewer: Viewer, batch_id: int) -> str:
    require_act(viewer)

    def work(connection: Connection) -> str:
        _in_scope(connection, viewer, batch_id)
        return payments.approve_batch(connection, batch_id, actor(viewer))

    return _step(request, work)


def reconcile(request: Request, viewer: Viewer, batch_id: int) -> payments.Reconciled:
    require_act(viewer)

    def work(connection: Connection) -> payments.Reconciled:
        _in_scope(connection, viewer, batch_id)
        return payments.reconcile(connection, actor(viewer), batch_id=batch_id)

    return _step(request, work)


def _cipher(request: Request) -> AccountCipher:
    """The payee accounts' key as the platform's settings configure it (the one composition root)."""
    return app_context(request).settings.account_cipher()


def reissue(request: Request, viewer: Viewer, batch_id: int, payment_id: int, payee: Payee, reason: str) -> int:
    """Re-issue a failed line of the batch to a corrected account; returns its claim's number."""
    require_act(viewer)
    if not reason.strip():
        raise StepRefused("请写明重新支付的原因（如：原账户已销户，收款人提供了新账户）")
    if not payee.name.strip():
        raise StepRefused("请填写收款人姓名（与新账户的户名一致）")

    def work(connection: Connection) -> int:
        _in_scope(connection, viewer, batch_id)
        claim_id = connection.scalar(
            select(payments.PAYMENTS.c.claim_id).where(
                payments.PAYMENTS.c.id == payment_id, payments.PAYMENTS.c.batch_id == batch_id
            )
        )
        if claim_id is None:
            raise HTTPException(404, "该批次中没有这一笔支付")
        payments.reissue(connection, int(claim_id), payee, actor(viewer), reason, cipher=_cipher(request))
        return int(claim_id)

    return _step(request, work)


def bank_file(request: Request, viewer: Viewer, batch_id: int, layout: str) -> FileResponse:
    """The bank file (full account numbers) of an approved batch: the export and its audit entry are
    committed before the file is sent; a batch changed since approval gets no file (StepRefused)."""
    require_act(viewer)
    if layout not in LAYOUTS:
        raise HTTPException(404, "银行文件格式应为 CSV 或 XLSX")

    def write(out: Path) -> tuple[Path, str]:
        def work(connection: Connection) -> str:
            batch = _in_scope(connection, viewer, batch_id)
            payments.export_batch(
                connection, batch_id, out, actor(viewer), cipher=_cipher(request), layout=layout, address=viewer.address
            )
            return str(regions.name_of(batch.region_code) or batch.region_code)

        county = _step(request, work)  # committed here: the audit entry exists before the answer starts
        return out, f"{county}支付批次{batch_id}银行文件{dt.date.today().isoformat()}.{layout}"

    return sent_after_recording(write, f"batch-{batch_id}.{layout}", LAYOUTS[layout])


def import_return(request: Request, viewer: Viewer, upload: UploadFile | None) -> tuple[str, payments.Imported]:
    """The bank's return file from an upload, applied within the account's scope; (file name, report)."""

    require_act(viewer)
    if upload is None or not upload.filename:
        raise StepRefused("请选择银行回单文件（CSV 或 XLSX，格式见本页说明）")
    name = safe_name(upload.filename)
    if not name.lower().endswith(RETURN_SUFFIXES):
        raise StepRefused(f"“{name}”不是 CSV 或 XLSX 文件：请上传银行回单（.csv 或 .xlsx；旧版 .xls 请先另存为 .xlsx）")
    limit = request.app.state.max_upload_bytes
    folder = Path(tempfile.mkdtemp(prefix="bangfu-return-upload-"))
    try:
        path = folder / name
        size = copy_upload(upload, path, limit)
        if size == 0:
            raise StepRefused(f"“{name}”是空文件：请重新从银行取得回单后上传")
        if size > limit:
            raise StepRefused(f"“{name}”超过上传上限 {limit / 2**20:g} MB：请把回单拆成几个文件分别上传")

        def work(connection: Connection) -> payments.Imported:
            return payments.import_return(connection, path, actor(viewer), within=viewer.scope, address=viewer.address)

        return name, _step(request, work)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
