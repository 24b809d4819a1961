"""User accounts: a role, and the region whose subtree the account sees; every change is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bangfu.accounts.passwords import DEMO_PASSWORD, check_password_strength, hash_password
from bangfu.audit.log import record
from bangfu.core import regions
from bangfu.core.vocabulary import ROLE_LABELS
from bangfu.store.tables import ROLES, Region, User

# The region level each role works at; an auditor may be placed at any level.
ROLE_LEVELS = {"province": "province", "city": "city", "county": "county", "township": "township", "auditor": None}
LEVEL_LABELS = {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇级"}
LEVEL_EXAMPLES = {
    "province": "140000（或 14）",
    "city": "140100（或 1401）",
    "county": "141123",
    "township": "141123100（或 12 位的 141123100000）",
}
USERNAME = re.compile(r"[0-9A-Za-z._\-\u3400-\u4dbf\u4e00-\u9fff]{3,64}")
DISPLAY_NAME_LIMIT = 64


class AccountError(ValueError):
    """Input that cannot make or change an account; the message (Chinese) says what to fix."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str
    region_code: str
    can_unmask: bool
    active: bool
    # A temporary password (new account, reset by an administrator): nothing but changing it until then.
    must_change_password: bool = False
    second_factor: bool = False  # enrolled in TOTP: the sign-in asks for a code too
    is_demo: bool = False


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def account_of(user: User) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        region_code=user.region_code,
        can_unmask=user.can_unmask,
        active=user.active,
        must_change_password=user.must_change_password,
        second_factor=user.totp_secret is not None,
        is_demo=user.is_demo,
    )


def _check_username(username: str) -> None:
    if not USERNAME.fullmatch(username):
        raise AccountError(
            f"用户名“{username}”不可用：应为 3–64 个字符，只含字母、数字、汉字和 . _ -（不含空格），"
            "如 zhang.san 或 兴县张三"
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        listed = "、".join(f"{key}（{label}）" for key, label in ROLE_LABELS.items())
        raise AccountError(f"角色“{role}”不存在：应为 {listed} 之一")


def _region(session: Session, role: str, code: str) -> Region:
    found = session.get(Region, regions.canonical(code)) if code.strip().isdigit() else None
    if found is None:
        raise AccountError(
            f"地区代码“{code}”不在登记库的行政区划中：请给出省 140000、市 140100、县 141123 或乡镇 141123100 这样的代码"
        )
    if found.statistics_only:
        raise AccountError(
            f"地区 {found.code}（{found.name}）是统计用区域，不是行政区划，不能作为账户的地区：请改用其下的县或乡镇代码"
        )
    wanted = ROLE_LEVELS[role]
    if wanted is not None and found.level != wanted:
        level, given = LEVEL_LABELS[wanted], LEVEL_LABELS.get(found.level, found.level)
        raise AccountError(
            f"角色 {role}（{role_label(role)}）须对应{level}地区，而 {found.code}（{found.name}）是{given}："
            f"请给出{level}代码，如 {LEVEL_EXAMPLES[wanted]}"
        )
    return found


def _taken(username: str) -> AccountError:
    return AccountError(f"用户名“{username}”已被使用（不区分大小写）：请换一个用户名")


def add_user(
    session: Session,
    *,
    username: str,
    role: str,
    region_code: str,
    password: str,
    display_name: str | None = None,
    can_unmask: bool = False,
    actor: str = "cli",
    address: str | None = None,
    temporary: bool = False,
    is_demo: bool = False,
) -> Account:
    """Create an account, audited as ``user.add``; raises AccountError (nothing written) for bad input.

    ``temporary``: the password must be changed at the first sign-in. ``is_demo``: an account of
    ``bangfu demo``, the only one allowed the published demo password.
    """
    _check_username(username)
    _check_role(role)
    if role == "auditor" and can_unmask:
        raise AccountError(
            "审计账号不能查看未脱敏的个人信息：审计只读、只看脱敏数据。请不要授予查看完整信息的权限"
            "（命令行去掉 --can-unmask）；确需查看完整信息的人请另建县、市或省级账户"
        )
    region = _region(session, role, region_code)
    shown_name = (display_name or "").strip() or username
    if len(shown_name) > DISPLAY_NAME_LIMIT:
        raise AccountError(f"显示名称超过 {DISPLAY_NAME_LIMIT} 个字（{len(shown_name)} 个字）：请缩短")
    if not (is_demo and password == DEMO_PASSWORD) and (reason := check_password_strength(password, username)):
        raise AccountError(reason)
    # Case-insensitive: "Zhang" beside "zhang" would let one pass for the other in the audit log.
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise _taken(username)
    user = User(
        username=username,
        display_name=shown_name,
        role=role,
        region_code=region.code,
        password_hash=hash_password(password),
        can_unmask=can_unmask,
        active=True,
        must_change_password=temporary,
        is_demo=is_demo,
    )
    try:
        # A savepoint: a concurrent insert of the same name must not abort the caller's transaction.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise _taken(username) from None
    record(
        session,
        actor=actor,
        action="user.add",
        target_type="user",
        target_id=user.id,
        region_code=region.code,
        after={
            "username": username,
            "role": role,
            "region_code": region.code,
            "can_unmask": can_unmask,
            "temporary": temporary,
            "is_demo": is_demo,
        },
        address=address,
    )
    return account_of(user)


def get_account(session: Session, user_id: int) -> Account | None:
    user = session.get(User, user_id)
    return None if user is None else account_of(user)


def find_account(session: Session, username: str) -> Account | None:
    user = session.scalar(select(User).where(User.username == username))
    return None if user is None else account_of(user)


def find_user(session: Session, username: str) -> User:
    """The user row of ``username``; AccountError (saying how to list accounts) when there is none."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"没有用户名为“{username}”的账户：请用 bangfu user list 查看已有账户")
    return user


def list_accounts(session: Session) -> list[Account]:
    return [account_of(user) for user in session.scalars(select(User).order_by(User.id))]
