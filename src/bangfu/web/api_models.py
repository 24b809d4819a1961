"""What the JSON API answers, as /openapi.json declares it: one model per answer, one error shape.

The handlers still write their answers with orjson (``api.json_answer``) for speed, so FastAPI does not
validate them against these models: the models are the published contract, and the schemathesis test
checks every answer against it. The read models of the registry (``registry.queries``) and the
dashboard are dataclasses already; they are used as they are, so the document cannot drift from them.

Errors: every refusal is ``{"detail": "中文说明"}`` (``app._add_error_answers``); a 422 about one
query parameter adds ``field``, the parameter's name. Lists are pages of one shape: ``items``,
``total``, ``page``, ``per_page`` and ``pages`` (``registry.queries.Page``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bangfu.claims.queue import ClaimDetail, ClaimSummary
from bangfu.registry.queries import OrganizationSummary, PersonSummary

# Tags group the operations; a generated client names its modules after them, so they are identifiers
# (bangfu_client.api.people.search_people) and the Chinese is their description.
API_TAGS = [
    {"name": "auth", "description": "认证：取得令牌、当前账号"},
    {"name": "policy", "description": "政策：条款、参数、评估案例"},
    {"name": "people", "description": "人员：查询、详情、可享受的政策、导出、查看完整信息"},
    {"name": "organizations", "description": "单位：查询、详情、导出"},
    {"name": "dashboard", "description": "概览数字"},
    {"name": "users", "description": "账户管理"},
    {"name": "claims", "description": "补贴申报：列表、详情、起草、批准、驳回、退回修改、撤回"},
    {"name": "payments", "description": "支付批次：生成、批准、银行文件、银行回单、对账（收款账号脱敏）"},
]


class ErrorResponse(BaseModel):
    """Every refusal of the API: what went wrong and what to do, in Chinese."""

    detail: str = Field(description="中文说明：出了什么问题、应当怎么做")


class InvalidRequest(BaseModel):
    """A request the API cannot use (422): which parameter, when it is about one."""

    detail: str = Field(description="中文说明，逐一列出无效的字段")
    field: str | None = Field(default=None, description="说的是哪个查询参数（如 region、id_number），可为空")


ERROR_TEXT = {
    400: "请求无法处理",
    401: "需要登录，或令牌无效、已过期",
    403: "无权进行此操作（含：须先修改口令、须先启用两步验证、无查看完整信息的权限）",
    404: "记录不存在，或不在本账号的地区范围内",
    409: "所适用的政策文件之间有冲突，无法作答",
    413: "请求内容或上传的文件超过大小上限，已拒绝，未作处理",
    422: "请求参数无效",
    429: "登录尝试过多，请按 Retry-After 等待后再试",
}


def errors(*codes: int, described: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of an operation: its refusals, each with the Chinese error shape (``described``:
    an operation's own description of a status)."""
    told = {**ERROR_TEXT, **(described or {})}
    return {
        code: {"model": InvalidRequest if code == 422 else ErrorResponse, "description": told[code]} for code in codes
    }


def declare_body_limit(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation that takes a body may answer 413 (``web.body_limit``, a middleware the routes do not
    see): added to /openapi.json here, once, so that no operation written later can leave it out."""
    too_large = {"description": ERROR_TEXT[413], "content": {"application/json": {"schema": _ERROR_REFERENCE}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", too_large)
    return schema


_ERROR_REFERENCE = {"$ref": "#/components/schemas/ErrorResponse"}


# An export's answer: a file (binary), so that generated clients hand it over as bytes.
XLSX_ANSWER: dict[str, Any] = {
    "description": "XLSX 文件",
    "content": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        }
    },
}


# Every endpoint behind a token: no token or a bad one (401), a password to change first (403), bad input (422).
SIGNED_IN = (401, 403, 422)


class Page(BaseModel):
    """The one pagination shape of every list: ``pages`` is 0 when nothing matched."""

    total: int = Field(description="符合条件的总数")
    page: int = Field(description="页码，从 1 开始")
    per_page: int = Field(description="每页条数")
    pages: int = Field(description="总页数；无结果时为 0")


class PersonPage(Page):
    items: list[PersonSummary]


class OrganizationPage(Page):
    items: list[OrganizationSummary]


class ClaimPage(Page):
    items: list[ClaimSummary]


class ClaimOutcome(BaseModel):
    """A claim after an action: what was done, and the claim as it now stands."""

    done: str = Field(description="做了什么（中文）")
    claim: ClaimDetail


class Me(BaseModel):
    username: str
    display_name: str
    role: str = Field(description="province、city、county、township 或 auditor")
    region_code: str
    can_unmask: bool


class ManagedAccount(Me):
    id: int
    active: bool
    must_change_password: bool
    second_factor: bool
    is_demo: bool


class AccountPage(Page):
    items: list[ManagedAccount]


class AccountOutcome(BaseModel):
    account: ManagedAccount
    done: str = Field(description="做了什么（中文）")
    temporary_password: str | None = Field(default=None, description="临时口令：只在新建和重设口令的回答中给出一次")


class Unmasked(BaseModel):
    id_number: str
    phone: str | None
    birth_date: str = Field(description="出生日期，YYYY-MM-DD")


class Open(BaseModel):
    """A part of the engine's answer with more fields than listed here (see docs/policy-authoring.md)."""

    model_config = ConfigDict(extra="allow")


class DocumentState(Open):
    id: str
    title: str
    in_force: bool


class BenefitAnswer(Open):
    id: str
    label: str
    eligible: bool | None = Field(description="是否符合条件；缺少信息无法判断时为 null（见 missing）")
    status: str
    status_label: str
    amount_fen: int | None = Field(description="金额（分）；无法计算时为 null")
    reasons: list[str]
    missing: list[Any] = Field(description="判断还缺少的信息")


class Evaluation(Open):
    """The answer of ``bangfu policy evaluate``: each benefit with its conditions, amounts and reasons."""

    date: str
    entity: str = Field(description="person（个人）或 organization（单位）")
    region: str
    in_force: bool = Field(description="当地当日是否有政策文件在执行期内")
    policy: DocumentState | None
    documents: list[DocumentState]
    benefits: list[BenefitAnswer]


class PolicyDescription(Open):
    """The default document's clauses, benefits and parameters, and ``documents``: every document."""

    id: str
    title: str
    date: str
    benefits: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    documents: list[dict[str, Any]]
