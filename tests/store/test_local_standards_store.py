"""Setting a local standard in the database: refusals write nothing, the audit entry comes first, and the
context's policy set uses what was committed (SQLite and PostgreSQL; ADR 0023)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from audit_sabotage import refuse_audit_appends
from bangfu.access.permissions import PermissionRefused
from bangfu.accounts.users import Account
from bangfu.context import Context
from bangfu.policy.local_standards import Proposal
from bangfu.policy.policy_set import PolicySet
from bangfu.policy_admin.local_standards import StandardRefused, set_standard, stored
from bangfu.store.tables import AuditEntry, LocalStandard
from database_servers import settings_for

KEY = "job_referral_subsidy.per_person_fen"


def account(role: str, region: str) -> Account:
    return Account(1, f"{role}_{region}", "", role, region, can_unmask=False, active=True)


def proposal(region: str = "1408", value: int = 20000) -> Proposal:
    return Proposal(
        "shanxi-2021", KEY, region, value, dt.date(2024, 1, 1), None, "运人社发〔2024〕12号", "职业介绍补贴"
    )


def rows(context: Context) -> tuple[int, int]:
    with context.engine.connect() as connection:
        standards = connection.scalar(select(func.count()).select_from(LocalStandard)) or 0
        entries = connection.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return int(standards), int(entries)


@pytest.mark.parametrize(
    ("who", "wanted", "refusal"),
    [
        (account("township", "141123100"), proposal(), PermissionRefused),
        (account("province", "14"), proposal("14"), PermissionRefused),
        (account("city", "1408"), proposal("1401"), StandardRefused),  # another city
        (account("city", "1408"), proposal("140821"), StandardRefused),  # a county of its city
        (account("city", "1408"), proposal(value=100001), StandardRefused),  # 1,000.01 元: out of range
    ],
)
def test_a_refusal_writes_nothing(
    fresh_database: str, who: Account, wanted: Proposal, refusal: type[Exception]
) -> None:
    with Context(settings_for(fresh_database)) as context:
        before = rows(context)
        with pytest.raises(refusal), context.sessions() as session, session.begin():
            set_standard(session, context.policies, who, wanted)
        assert rows(context) == before


def test_the_audit_entry_comes_first_and_the_set_uses_what_was_committed(fresh_database: str) -> None:
    with Context(settings_for(fresh_database)) as context:
        assert context.policies.document("shanxi-2021").resolve(KEY, dt.date(2024, 6, 1), "140821").value is None
        with context.sessions() as session, session.begin():
            saved = set_standard(session, context.policies, account("city", "1408"), proposal())
            # not committed yet: another connection sees neither the row nor its audit entry
            assert rows(context) == (0, 0)
        assert rows(context) == (1, 1)
        context.stored_state_changed()
        resolved = context.policies.document("shanxi-2021").resolve(KEY, dt.date(2024, 6, 1), "140821")
        assert (resolved.value, resolved.level) == (20000, "1408")
        assert resolved.citation is not None and resolved.citation.document == "运人社发〔2024〕12号"
        with context.engine.connect() as connection:
            assert [s.id for s in stored(connection)] == [saved.id]


def test_no_standard_without_its_audit_entry(fresh_database: str) -> None:
    refuse_audit_appends(fresh_database)
    with Context(settings_for(fresh_database)) as context:
        with pytest.raises(DBAPIError, match="sabotaged"), context.sessions() as session, session.begin():
            set_standard(session, context.policies, account("city", "1408"), proposal())
        assert rows(context) == (0, 0)


def test_a_given_set_gets_the_stored_standards_too(fresh_database: str) -> None:
    with Context(settings_for(fresh_database)) as context, context.sessions() as session, session.begin():
        set_standard(session, context.policies, account("city", "1408"), proposal())
    with Context(settings_for(fresh_database), policies=PolicySet.bundled("shanxi-2021")) as given:
        assert given.policies.default.resolve(KEY, dt.date(2024, 6, 1), "1408").value == 20000
        assert given.policies is given.policies  # built once while nothing changes


def test_the_cli_with_a_database_uses_the_stored_standard(fresh_database: str) -> None:
    from typer.testing import CliRunner

    from bangfu.cli import app
    from bangfu.store.tables import Organization

    with Context(settings_for(fresh_database)) as context, context.sessions() as session, session.begin():
        session.add(
            Organization(
                credit_code="91140821MA0000000H", name="临猗县人力资源服务公司", kind="hr_agency",
                region_code="140821", placed_by_export=3,
            )
        )  # fmt: skip
        set_standard(session, context.policies, account("city", "1408"), proposal())
    case = ["policy", "evaluate", "--credit-code", "91140821MA0000000H", "--database", fresh_database]
    answer = CliRunner().invoke(app, [*case, "--date", "2024-06-30"])
    assert answer.exit_code == 0, answer.output
    referral = next(b for b in json.loads(answer.stdout)["benefits"] if b["id"] == "job_referral_subsidy")
    assert (referral["status"], referral["amount_fen"]) == ("granted", 60000)
    population = ["policy", "population", "--from-database", "--database", fresh_database, "--date", "2024-06-30"]
    totals = CliRunner().invoke(app, [*population, "--json"])
    assert totals.exit_code == 0, totals.output
    assert json.loads(totals.stdout)["benefits"]["shanxi-2021/job_referral_subsidy"]["amount"] == 60000
