"""Who may administer which account: the rule the administrator page applies to every read and action.

- a province account administers every account (auditors included), but never itself;
- a city or county account administers the city, county and township accounts inside its own region
  (its level and below), never one above it, outside its region, an auditor, or itself;
- township and auditor accounts administer nobody.

Auditors answer only to the province: the accounts they audit must not be able to switch them off.
Granting "may unmask" needs an administrator who may unmask itself (no one hands out more than it has).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from bangfu.access.scope import Scope
from bangfu.accounts import life_cycle
from bangfu.accounts.passwords import temporary_password
from bangfu.accounts.users import Account, AccountError, account_of, add_user
from bangfu.core.vocabulary import ROLE_LABELS
from bangfu.store.tables import User

Action = Literal["disable", "enable", "reset-password", "revoke-tokens", "totp-reset"]
ACTIONS: tuple[str, ...] = get_args(Action)
NOT_AN_ADMINISTRATOR = "您的角色不能管理账户：账户由上级（县、市或省级）账户管理"
NOT_FOUND = "未找到该账户（或不在您的管理范围内）"


class NotAnAdministrator(PermissionError):
    """The role administers nobody (township, auditor): answer 403."""

    def __init__(self) -> None:
        super().__init__(NOT_AN_ADMINISTRATOR)


class OutOfReach(LookupError):
    """No such account, or one the administrator may not touch (itself included): answer 404."""

    def __init__(self) -> None:
        super().__init__(NOT_FOUND)


@dataclass(frozen=True)
class Outcome:
    account: Account
    done: str  # what happened, in Chinese, for the page or the API answer
    temporary_password: str | None = None  # shown once to the administrator, never stored in clear


ADMINISTERING_ROLES = ("province", "city", "county")
# Lower rank = higher level. An administrator reaches its own rank and below.
RANKS = {"province": 0, "city": 1, "county": 2, "township": 3}


def may_administer_accounts(admin: Account) -> bool:
    """Whether the account sees the administrator page at all."""
    return admin.role in ADMINISTERING_ROLES


def may_administer(admin: Account, role: str, region_code: str) -> bool:
    """Whether ``admin`` may create or change an account of ``role`` in ``region_code``."""
    if not may_administer_accounts(admin):
        return False
    if admin.role == "province":
        return True
    if role == "auditor" or RANKS[role] < RANKS[admin.role]:
        return False
    return Scope.for_region(admin.region_code).contains(region_code)


def administered(session: Session, admin: Account) -> list[Account]:
    """The accounts ``admin`` may administer (itself excluded), ordered by region then user name."""
    if not may_administer_accounts(admin):
        return []
    query = select(User).where(User.id != admin.id).order_by(User.region_code, User.username)
    if admin.role != "province":
        query = query.where(Scope.for_region(admin.region_code).users())
    accounts = (account_of(user) for user in session.scalars(query))
    return [account for account in accounts if may_administer(admin, account.role, account.region_code)]


def administered_account(session: Session, admin: Account, user_id: int) -> Account | None:
    """One account ``admin`` may administer, or None (unknown, outside its reach, or itself): answer 404."""
    user = session.get(User, user_id)
    if user is None or user.id == admin.id or not may_administer(admin, user.role, user.region_code):
        return None
    return account_of(user)


def creatable_roles(admin: Account) -> dict[str, str]:
    """Role → label of the accounts ``admin`` may create (in its own region or below)."""
    return {role: label for role, label in ROLE_LABELS.items() if may_administer(admin, role, admin.region_code)}


def create_account(
    session: Session,
    admin: Account,
    *,
    username: str,
    role: str,
    region_code: str,
    display_name: str = "",
    can_unmask: bool = False,
    address: str | None = None,
) -> Outcome:
    """A new account with a generated temporary password; AccountError (nothing written) when refused."""
    if not may_administer_accounts(admin):
        raise NotAnAdministrator
    region_code = region_code.strip()
    if role not in ROLE_LABELS or not may_administer(admin, role, region_code):
        label = ROLE_LABELS.get(role, "该角色的")
        raise AccountError(f"您不能在地区“{region_code}”新建{label}账户：只能在本地区及其下级新建本级及以下角色的账户")
    if can_unmask and not admin.can_unmask:
        raise AccountError("您自己无权查看完整个人信息，也就不能把这项权限授予他人")
    password = temporary_password()
    # A savepoint: a refused account leaves the caller's transaction usable (the page still renders).
    with session.begin_nested():
        account = add_user(
            session, username=username.strip(), role=role, region_code=region_code, password=password,
            display_name=display_name, can_unmask=can_unmask, actor=admin.username, address=address,
            temporary=True,
        )  # fmt: skip
    return Outcome(account, f"已新建账户 {account.username}（临时口令，首次登录须改设）", password)


def administer(session: Session, admin: Account, user_id: int, action: str, *, address: str | None = None) -> Outcome:
    """Apply ``action`` to an account ``admin`` may administer; NotAnAdministrator, OutOfReach or AccountError."""
    if not may_administer_accounts(admin):
        raise NotAnAdministrator
    target = administered_account(session, admin, user_id)
    if target is None:
        raise OutOfReach
    name, actor = target.username, admin.username
    password = temporary_password() if action == "reset-password" else None
    steps: dict[str, tuple[Callable[[], Any], str]] = {
        "disable": (
            lambda: life_cycle.set_active(session, name, False, actor=actor, address=address),
            f"已停用账户 {name}，其网页会话与 API 令牌均已作废",
        ),
        "enable": (
            lambda: life_cycle.set_active(session, name, True, actor=actor, address=address),
            f"已启用账户 {name}",
        ),
        "reset-password": (
            lambda: life_cycle.set_password(
                session, name, password or "", temporary=True, actor=actor, address=address
            ),
            f"已重设账户 {name} 的口令（临时口令，下次登录须改设），其网页会话与 API 令牌均已作废",
        ),
        "revoke-tokens": (
            lambda: life_cycle.revoke_tokens(session, name, actor=actor, address=address),
            f"已作废账户 {name} 的全部网页会话与 API 令牌",
        ),
        "totp-reset": (
            lambda: life_cycle.reset_second_factor(session, name, actor=actor, address=address),
            f"已取消账户 {name} 的两步验证，其网页会话与 API 令牌均已作废",
        ),
    }
    if action not in steps:
        raise AccountError(f"不支持的操作“{action}”：应为 {'、'.join(ACTIONS)} 之一")
    step, done = steps[action]
    with session.begin_nested():
        step()
    changed = administered_account(session, admin, user_id)
    return Outcome(changed or target, done, password)
