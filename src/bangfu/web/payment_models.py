"""What the payment-batch API answers (``routes.payments_api``), in the style of ``api_models``: one
model per answer, the read models of ``claims.payment_views`` used as they are, refusals as
``{"detail": "中文说明"}``. Money is integer fen; account numbers are masked (the bank file is the
one place they appear in full)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bangfu.claims.payment_views import BatchLine, BatchSummary, ReconciliationRow, Tally
from bangfu.web.api_models import ErrorResponse, Page

# A batch step refused (maker approving, a batch changed since approval, nothing to build …).
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "批次步骤被拒绝：原因见 detail（如经办人不能批准本人生成的批次）"}
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: {"model": ErrorResponse, "description": "上传的文件超过上限"}}
BANK_FILE_ANSWER: dict[str, Any] = {
    "description": "银行文件（含完整收款账号；下载已记入审计日志）：CSV 或 XLSX，格式见 docs/payments.md",
    "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        },
    },
}


class PaymentBatchPage(Page):
    items: list[BatchSummary]


class PaymentBatchDetail(BaseModel):
    batch: BatchSummary
    lines: list[BatchLine] = Field(description="支付明细，收款账号只显示后四位")
    tally: Tally = Field(description="按结果（paid、failed、reversed、pending）的笔数与金额（分）")


class BuildBatch(BaseModel):
    fund: str = Field(max_length=32, description="资金：revitalization、employment 或 unemployment_insurance")
    county: str = Field(max_length=12, description="县的 6 位行政区划代码，须在本账号地区范围内")
    payer_bank: str = Field(max_length=200, description="付款银行")


class BuiltBatch(BaseModel):
    batch_id: int | None = Field(description="新批次的编号；没有可支付的已批准申报时为 null")
    lines: int
    total_fen: int
    without_account: list[int] = Field(description="已批准但缺收款账户、未列入批次的申报编号")


class ApprovedBatch(BaseModel):
    batch: BatchSummary
    content_hash: str = Field(description="批准时支付明细的 SHA-256：此后明细若被改动，不再生成银行文件")


class ReconciledBatch(BaseModel):
    batch: BatchSummary
    paid: int = Field(description="本次写入已享受记录的笔数")
    failed: int = Field(description="本次转为支付失败的申报数")
    reversed: int = Field(description="本次退汇冲回的笔数")


class ReturnImport(BaseModel):
    file: str
    applied: dict[str, int] = Field(description="新记录的结果：paid、failed、reversed 各几笔")
    unchanged: int = Field(description="与已记录一致、未改变的行数（重复导入时即全部行）")
    problems: list[str] = Field(description="未处理的行及原因（未知流水号、金额不符、与已记录矛盾）")


class Reconciliation(BaseModel):
    items: list[ReconciliationRow] = Field(description="每县每种资金一行")
