"""Local standards in the database: set (checked, audited, one transaction), read back, their history.

A standard is set by appending a row; the audit entry is written first in the same transaction, so
the value can never be seen without the entry that says who set it and from which local document.
Refusals (permission, ownership, range, dates) raise ``StandardRefused`` before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from bangfu.access.permissions import STANDARDS_SET, require
from bangfu.accounts.users import Account
from bangfu.audit.log import record
from bangfu.core import regions
from bangfu.policy.local_standards import Period, Proposal, StoredStandard, periods, refusals
from bangfu.policy.parameters import format_value
from bangfu.policy.policy_set import PolicySet
from bangfu.store.tables import LocalStandard

TABLE = cast(Table, LocalStandard.__table__)
AUDIT_ACTION = "standard.set"


class StandardRefused(ValueError):
    """The proposal cannot be saved; ``errors`` maps a form field ("" for the whole form) to the reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("；".join(errors.values()))
        self.errors = errors


def _standard(row: object) -> StoredStandard:
    fields = {name: getattr(row, name) for name in StoredStandard.__dataclass_fields__}
    set_at = fields["set_at"]
    fields["set_at"] = set_at.replace(tzinfo=dt.UTC) if set_at.tzinfo is None else set_at
    return StoredStandard(**fields)


def stored(connection: Connection, document_id: str | None = None) -> list[StoredStandard]:
    """Every stored value (of one document), oldest first."""
    query = select(*(TABLE.c[name] for name in StoredStandard.__dataclass_fields__)).order_by(TABLE.c.id)
    if document_id is not None:
        query = query.where(TABLE.c.document_id == document_id)
    return [_standard(row) for row in connection.execute(query)]


def history(connection: Connection, document_id: str, key: str, region_codes: Iterable[str]) -> list[Period]:
    """The periods of one standard in the given regions (a county and its city), newest set first."""
    codes = list(region_codes)
    rows = [r for r in stored(connection, document_id) if r.parameter_key == key and r.region_code in codes]
    found = [p for code in codes for p in periods(r for r in rows if r.region_code == code)]
    return sorted(found, key=lambda p: p.standard.id, reverse=True)


def check(policies: PolicySet, account: Account, proposal: Proposal) -> None:
    """PermissionRefused or StandardRefused when ``account`` may not set ``proposal``; nothing is written."""
    require(account.role, STANDARDS_SET)
    try:
        policy = policies.document(proposal.document_id)
    except ValueError:
        raise StandardRefused({"": f"没有编号为 {proposal.document_id} 的政策（或该政策未启用）"}) from None
    errors = refusals(policy, proposal, account.region_code)
    if errors:
        raise StandardRefused(errors)


def set_standard(
    session: Session, policies: PolicySet, account: Account, proposal: Proposal, *, address: str | None = None
) -> StoredStandard:
    """Check, audit, then append the value, all in the caller's transaction (committed together or not at all)."""
    check(policies, account, proposal)
    parameter = policies.document(proposal.document_id).parameters[proposal.parameter_key]
    region = regions.canonical(proposal.region_code)
    now = dt.datetime.now(dt.UTC)
    after: dict[str, Any] = {
        "document": proposal.document_id,
        "parameter": proposal.parameter_key,
        "label": parameter.label,
        "value": proposal.value,
        "shown": format_value(proposal.value, parameter.unit),
        "valid_from": proposal.valid_from.isoformat(),
        "valid_to": proposal.valid_to.isoformat() if proposal.valid_to else None,
        "document_number": proposal.document_number.strip(),
        "document_title": proposal.document_title.strip(),
    }
    connection = session.connection()
    audit_id = record(
        connection,
        actor=account.username,
        action=AUDIT_ACTION,
        target_type="local_standard",
        target_id=f"{proposal.document_id}:{proposal.parameter_key}"[:64],
        region_code=region,
        after=after,
        address=address,
        at=now,
    )
    values = {
        "document_id": proposal.document_id,
        "parameter_key": proposal.parameter_key,
        "region_code": region,
        "value": proposal.value,
        "valid_from": proposal.valid_from,
        "valid_to": proposal.valid_to,
        "document_number": after["document_number"],
        "document_title": after["document_title"],
        "set_by": account.username,
        "set_at": now,
        "audit_id": audit_id,
    }
    new_id = connection.execute(insert(TABLE).values(**values).returning(TABLE.c.id)).scalar_one()
    return StoredStandard(
        id=new_id,
        document_id=proposal.document_id,
        parameter_key=proposal.parameter_key,
        region_code=region,
        value=proposal.value,
        valid_from=proposal.valid_from,
        valid_to=proposal.valid_to,
        document_number=after["document_number"],
        document_title=after["document_title"],
        set_by=account.username,
        set_at=now,
    )
