"""Programme packages added as files, switched on by a province administrator (ADR 0023).

Each sub-folder of the configured folder (``BANGFU_POLICY_DIR``) holding a ``policy.yaml`` is a
package. Bundled documents are always active; a package is active when its latest activation row
says so **and** its files are still those that were checked (SHA-256 of every file): a package
edited after activation drops out until it is checked and activated again. A package is activated
only if it passes the checks ``bangfu policy check`` runs (``policy/package_check.py``), and every
activation and deactivation is audited in the transaction that records it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.orm import Session

from bangfu.access.permissions import POLICIES_ACTIVATE, require
from bangfu.accounts.users import Account
from bangfu.audit.log import record
from bangfu.policy.loader import PolicyError, load_policy
from bangfu.policy.package_check import PackageReport, check_package
from bangfu.policy.policy_set import PolicySet
from bangfu.store.tables import PolicyActivation

TABLE = cast(Table, PolicyActivation.__table__)
LOG = logging.getLogger(__name__)


class ActivationRefused(ValueError):
    """The package cannot be activated (or is unknown); the message says why, in Chinese."""


@dataclass(frozen=True)
class Package:
    """A package folder and its state: checked against the set, and whether it is active now."""

    folder: Path
    content_hash: str
    report: PackageReport
    activated: bool  # the latest activation row says active
    active: bool  # activated, and its files are still those checked: used in evaluations
    set_by: str | None
    set_at: dt.datetime | None

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def changed_since_activation(self) -> bool:
        return self.activated and not self.active


def package_folders(policy_dir: Path | None) -> list[Path]:
    """The package folders under ``policy_dir`` (none when unset or absent), by name."""
    if policy_dir is None or not policy_dir.is_dir():
        return []
    return sorted(p for p in policy_dir.iterdir() if p.is_dir() and (p / "policy.yaml").is_file())


def content_hash(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def fingerprint(policy_dir: Path | None) -> tuple[tuple[str, str], ...]:
    """Each package folder's name and content hash: a package edited on disk changes it."""
    return tuple((folder.name, content_hash(folder)) for folder in package_folders(policy_dir))


def _latest(connection: Connection) -> dict[str, Any]:
    """The latest activation row of each package folder."""
    newest = select(func.max(TABLE.c.id)).group_by(TABLE.c.folder).scalar_subquery()
    rows = connection.execute(select(TABLE).where(TABLE.c.id.in_(newest)))
    return {row.folder: row for row in rows}


def active_set(connection: Connection, bundled: PolicySet, policy_dir: Path | None) -> PolicySet:
    """The bundled documents and every package active now (activated, files unchanged since)."""
    latest = _latest(connection)
    documents = list(bundled.documents)
    for folder in package_folders(policy_dir):
        row = latest.get(folder.name)
        if row is not None and row.active and row.content_hash == content_hash(folder):
            try:
                candidate = PolicySet(PolicySet.of(*documents, load_policy(folder)).documents, bundled.default_id)
            except PolicyError as exc:
                # Checked when activated, so only a newer Bangfu reading the same files differently gets
                # here: leave the package out (the activation page shows why) rather than fail every page.
                LOG.warning("已启用的政策包 %s 现在无法使用，已跳过：%s", folder.name, exc)
                continue
            documents = list(candidate.documents)
    if len(documents) == len(bundled.documents):
        return bundled
    return PolicySet(tuple(documents), bundled.default_id)


def packages(connection: Connection, bundled: PolicySet, policy_dir: Path | None) -> list[Package]:
    """Every package folder with its checks (against the active set without it) and its state."""
    latest = _latest(connection)
    current = active_set(connection, bundled, policy_dir)
    out = []
    for folder in package_folders(policy_dir):
        digest = content_hash(folder)
        row = latest.get(folder.name)
        was_active = row is not None and bool(row.active)
        checked_hash = row.content_hash if row is not None else None
        report = check_package(_without(current, folder), folder)
        out.append(
            Package(
                folder=folder,
                content_hash=digest,
                report=report,
                activated=was_active,
                active=was_active and checked_hash == digest,
                set_by=row.set_by if row is not None else None,
                set_at=row.set_at if row is not None else None,
            )
        )
    return out


def _without(policies: PolicySet, folder: Path) -> PolicySet:
    kept = [d for d in policies.documents if Path(d.source_dir).resolve() != folder.resolve()]
    return policies if len(kept) == len(policies.documents) else policies.only(d.id for d in kept)


def set_active(
    session: Session,
    bundled: PolicySet,
    policy_dir: Path | None,
    account: Account,
    folder_name: str,
    active: bool,
    *,
    address: str | None = None,
) -> Package:
    """Activate (only a package that passes every check) or deactivate one package; audited, one transaction."""
    require(account.role, POLICIES_ACTIVATE)
    connection = session.connection()
    found = {p.name: p for p in packages(connection, bundled, policy_dir)}
    package = found.get(folder_name)
    if package is None:
        raise ActivationRefused(f"政策目录中没有名为“{folder_name}”的政策包")
    if active and content_hash(package.folder) != package.content_hash:
        raise ActivationRefused(f"政策包“{folder_name}”的文件在检查期间被修改：请刷新页面，重新检查后再启用")
    if active and not package.report.passed:
        raise ActivationRefused(f"政策包“{folder_name}”未通过检查，不能启用：{'；'.join(package.report.problems)}")
    if (active and package.active) or (not active and not package.activated):
        raise ActivationRefused(f"政策包“{folder_name}”已{'启用' if active else '停用'}")
    now = dt.datetime.now(dt.UTC)
    document_id = package.report.document_id or folder_name
    audit_id = record(
        connection,
        actor=account.username,
        action="policy.activate" if active else "policy.deactivate",
        target_type="policy",
        target_id=document_id[:64],
        region_code=package.report.region,
        before={"active": package.activated},
        after={"active": active, "folder": folder_name, "content_hash": package.content_hash},
        address=address,
        at=now,
    )
    connection.execute(
        insert(TABLE).values(
            document_id=document_id[:64],
            folder=folder_name[:255],
            active=active,
            content_hash=package.content_hash if active else None,
            set_by=account.username,
            set_at=now,
            audit_id=audit_id,
        )
    )
    return Package(package.folder, package.content_hash, package.report, active, active, account.username, now)
