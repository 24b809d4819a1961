"""``bangfu claims approve --all-checked --county`` and many ids at once, on SQLite and PostgreSQL: all or
none, maker-checker kept, one claim event and one audit entry per claim, the audit chain intact."""

from __future__ import annotations

from claims_support import bulk_approved_claims, invoke
from sqlalchemy import func, insert, select, update
from typer.testing import Result

from bangfu.audit import log as audit
from bangfu.claims.records import CLAIMS, EVENTS
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry, User

COUNTY, OTHER_COUNTY = "141123", "141124"


def flat(result: Result) -> str:
    return "".join(result.output.split())


def test_approving_a_county_s_checked_claims_in_one_action(fresh_database: str) -> None:
    url = fresh_database
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(User),
                [{"username": "xing_checker", "display_name": "审批人", "role": "county", "region_code": COUNTY,
                  "password_hash": "-"}],
            )  # fmt: skip
        checked = bulk_approved_claims(engine, 40, status="checked")
        flagged = bulk_approved_claims(engine, 1, status="checked")[0]
        own = bulk_approved_claims(engine, 1, county=OTHER_COUNTY, status="checked", maker="xing_checker")[0]
        with engine.begin() as connection:
            connection.execute(update(CLAIMS).where(CLAIMS.c.id == flagged).values(flagged=True))
            audit_before = connection.scalar(select(func.count()).select_from(AuditEntry))

        neither = invoke("claims", "approve", "--as", "xing_checker", "--database", url)
        assert neither.exit_code == 2 and "二者选一" in flat(neither)
        no_county = invoke("claims", "approve", "--all-checked", "--as", "xing_checker", "--database", url)
        assert no_county.exit_code == 2 and "--all-checked须同时写--county" in flat(no_county)
        # One of the ids is the approver's own claim: nothing at all is approved.
        mixed = invoke("claims", "approve", *map(str, [*checked[:5], own]), "--as", "xing_checker", "--database", url)
        assert mixed.exit_code == 2 and f"申报{own}由xing_checker起草" in flat(mixed)
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).where(CLAIMS.c.status == "approved")) == 0

        done = invoke(
            "claims", "approve", "--all-checked", "--county", COUNTY, "--as", "xing_checker", "--database", url
        )
        assert done.exit_code == 0, done.output
        assert "已批准40笔申报（审批人xing_checker）" in flat(done)
        with engine.connect() as connection:
            statuses = dict(connection.execute(select(CLAIMS.c.id, CLAIMS.c.status)).all())
            approvers = set(connection.scalars(select(CLAIMS.c.approver).where(CLAIMS.c.id.in_(checked))))
            events = connection.execute(
                select(EVENTS.c.claim_id, EVENTS.c.from_status, EVENTS.c.to_status, EVENTS.c.audit_id)
            ).all()
            logged = connection.execute(
                select(AuditEntry.target_id, AuditEntry.action).where(AuditEntry.id.in_([e.audit_id for e in events]))
            ).all()
            assert connection.scalar(select(func.count()).select_from(AuditEntry)) == audit_before + 40
            assert audit.verify(connection).ok
        assert {statuses[c] for c in checked} == {"approved"} and approvers == {"xing_checker"}
        assert statuses[flagged] == statuses[own] == "checked"  # flagged: only by name, with an override
        assert sorted(e.claim_id for e in events) == checked
        assert {(e.from_status, e.to_status) for e in events} == {("checked", "approved")}
        assert sorted(int(t) for t, _ in logged) == checked and {a for _, a in logged} == {"claim.approved"}

        again = invoke(
            "claims", "approve", "--all-checked", "--county", COUNTY, "--as", "xing_checker", "--database", url
        )
        assert again.exit_code == 2 and "没有已自动审核且通过、待批准的申报" in flat(again)
    finally:
        engine.dispose()
