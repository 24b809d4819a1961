"""Named permissions and the roles that hold them (docs/security.md, ADR 0023).

A permission here is held by a role in its own region: city and county accounts set the local
standards their level owns for their city or county (``standards.set``); province accounts switch
programme packages on and off (``policies.activate``). What an account may do with it is further
limited by the document (who owns a standard) and checked where the change is made.
"""

from __future__ import annotations

STANDARDS_SET = "standards.set"
POLICIES_ACTIVATE = "policies.activate"
# Claims (ADR 0031, 0032): draft an application, decide on a claim (approve, reject, return), and
# approve one the auto-checks flagged (an override, with its reason on record).
CLAIMS_DRAFT = "claims.draft"
CLAIMS_DECIDE = "claims.decide"
CLAIMS_OVERRIDE = "claims.override"
# Payment batches (ADR 0033): county and up read and work them; an auditor reads; a township neither.
PAYMENTS_VIEW = "payments.view"
PAYMENTS_ACT = "payments.act"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "province": frozenset({POLICIES_ACTIVATE, CLAIMS_DECIDE, CLAIMS_OVERRIDE, PAYMENTS_VIEW, PAYMENTS_ACT}),
    "city": frozenset({STANDARDS_SET, CLAIMS_DECIDE, CLAIMS_OVERRIDE, PAYMENTS_VIEW, PAYMENTS_ACT}),
    "county": frozenset({STANDARDS_SET, CLAIMS_DRAFT, CLAIMS_DECIDE, CLAIMS_OVERRIDE, PAYMENTS_VIEW, PAYMENTS_ACT}),
    "township": frozenset({CLAIMS_DRAFT}),
    "auditor": frozenset({PAYMENTS_VIEW}),
}
REFUSALS = {
    STANDARDS_SET: "您的角色不能设置地方标准：地方标准由市级、县级账户为本地区设置",
    POLICIES_ACTIVATE: "您的角色不能启用或停用政策：政策文件由省级账户启用",
    CLAIMS_DRAFT: "您的角色不能起草申报：申报由乡镇经办人员或县级工作人员起草，审计账户只读",
    CLAIMS_DECIDE: "您的角色不能审批申报：批准、驳回、退回由县级（及市级、省级）工作人员进行，审计账户只读",
    CLAIMS_OVERRIDE: "您的角色不能批准未通过自动审核的申报（须有“审核例外批准”权限）",
    PAYMENTS_VIEW: "您的角色不能查看支付批次：支付批次由县级及以上账户办理，审计账户可以查看",
    PAYMENTS_ACT: "您的角色只能查看支付批次，不能生成、批准、对账或重新支付：这些操作由县级及以上工作人员办理",
}


def holds(role: str, permission: str) -> bool:
    """Whether an account of ``role`` holds ``permission`` (for its own region)."""
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


class PermissionRefused(PermissionError):
    """The account's role does not hold the permission: answer 403 with the reason."""

    def __init__(self, permission: str) -> None:
        super().__init__(REFUSALS[permission])
        self.permission = permission


def require(role: str, permission: str) -> None:
    if not holds(role, permission):
        raise PermissionRefused(permission)
