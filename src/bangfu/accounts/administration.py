"""Who may administer which account: the rule the administrator page applies to every read and action.

- a province account administers every account (auditors included), but never itself;
- a city or county account administers the city, county and township accounts inside its own region
  (its level and below), never one above it, outside its region, an auditor, or itself;
- township and auditor accounts administer nobody.

Auditors answer only to the province: the accounts they audit must not be able to switch them off.
Granting "may unmask" needs an administrator who may unmask itself (no one hands out more than it has).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bangfu.access.scope import Scope
from bangfu.accounts.users import Account, account_of
from bangfu.store.tables import User

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
