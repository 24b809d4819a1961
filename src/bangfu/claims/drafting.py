"""Draft claims from the policy engine's answer: one person or organization, or the monthly run.

A claim stores the benefit's answer (reasons, conditions), the parameter values it used and the
version (file hash) of the document, so a later change of the rules never rewrites what was decided.
Its money keys (keys.py) are inserted in a savepoint: a key already held by a live claim, from any
county, makes the database refuse the row and the draft is reported as a duplicate, not written.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from bangfu.claims import keys
from bangfu.claims.records import CLAIMS, KEYS, STATUS_LABELS, ClaimError, now, record_event
from bangfu.core.account_cipher import AccountCipher, AccountKeyError, normalised
from bangfu.core.regions import name_of
from bangfu.policy.case import Case, parse_case
from bangfu.policy.engine import unpaid_units
from bangfu.policy.evaluation import evaluate_all
from bangfu.policy.policy_set import PolicySet
from bangfu.policy_admin.activation import content_hash
from bangfu.registry.stored_cases import stored_case
from bangfu.store.tables import BenefitLedgerEntry, Organization, Person

LEDGER = cast(Table, BenefitLedgerEntry.__table__)
PERSONS = cast(Table, Person.__table__)
ORGANIZATIONS = cast(Table, Organization.__table__)


@dataclass(frozen=True)
class Payee:
    """Where the money goes: a person's social-security card account, an organization's bank account."""

    name: str
    account: str
    bank: str | None = None


def account_cipher(cipher: AccountCipher | None = None) -> AccountCipher:
    """The cipher given, else the one the settings configure (production refuses a missing key)."""
    if cipher is not None:
        return cipher
    from bangfu.settings import Settings

    try:
        return Settings.from_env().account_cipher()
    except AccountKeyError as exc:
        raise ClaimError(str(exc)) from None


def valid_account(account: str) -> str:
    number = normalised(account)
    if not number.isdigit() or not 8 <= len(number) <= 32:
        raise ClaimError("收款账号应为 8–32 位数字")
    return number


def payee_values(payee: Payee | None, cipher: AccountCipher | None = None) -> dict[str, Any]:
    """The claim's payee columns: the account sealed (AES-GCM), its keyed hash and last four digits."""
    if payee is None:
        return {
            "payee_name": None,
            "payee_account_cipher": None,
            "payee_account_hmac": None,
            "payee_account_tail": None,
            "payee_bank": None,
        }
    sealed = account_cipher(cipher).seal(valid_account(payee.account))
    return {
        "payee_name": payee.name,
        "payee_account_cipher": sealed.cipher,
        "payee_account_hmac": sealed.hmac,
        "payee_account_tail": sealed.tail,
        "payee_bank": payee.bank,
    }


class DuplicateClaimError(ClaimError):
    """The money key is held by a live claim (any county): a second one would pay twice."""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _event_date(benefit: dict[str, Any]) -> dt.date:
    event = benefit.get("event") or {}
    return dt.date.fromisoformat(event.get("date") or benefit["decided_on"])


def _ledger_units(connection: Connection, entity: str, key: int, benefit_id: str, day: dt.date) -> int:
    """Units of the benefit the ledger paid up to ``day``: what the engine takes off (repeat.paid_units)."""
    column = LEDGER.c.person_id if entity == "person" else LEDGER.c.org_id
    total = connection.scalar(
        select(func.coalesce(func.sum(LEDGER.c.units), 0)).where(
            column == key, LEDGER.c.benefit_id == benefit_id, LEDGER.c.date <= day
        )
    )
    return int(total or 0)


def _home_region(connection: Connection, entity: str, key: int) -> str:
    if entity == "person":
        row = connection.execute(
            select(PERSONS.c.residence_region, PERSONS.c.hukou_region).where(PERSONS.c.id == key)
        ).one()
        return str(row.residence_region or row.hukou_region)
    return str(connection.scalar(select(ORGANIZATIONS.c.region_code).where(ORGANIZATIONS.c.id == key)))


def _holder(connection: Connection, money_keys: list[str]) -> str:
    row = connection.execute(
        select(CLAIMS.c.id, CLAIMS.c.region_code, CLAIMS.c.status)
        .join(KEYS, KEYS.c.claim_id == CLAIMS.c.id)
        .where(KEYS.c.money_key.in_(money_keys), KEYS.c.live)
        .limit(1)
    ).one_or_none()
    if row is None:
        return "另一笔同时提交的申报"
    return f"申报 {row.id}（{name_of(row.region_code) or row.region_code}，{STATUS_LABELS[row.status]}）"


def _document_version(
    policies: PolicySet, document_id: str, versions: dict[str, str | None] | None = None
) -> str | None:
    """The content hash of the document's folder; ``versions`` keeps it for the rest of a run."""
    if versions is not None and document_id in versions:
        return versions[document_id]
    source = policies.document(document_id).source_dir
    version = content_hash(Path(source)) if source and Path(source).is_dir() else None
    if versions is not None:
        versions[document_id] = version
    return version


def insert_claim(
    connection: Connection,
    policies: PolicySet,
    case: Case,
    *,
    entity: str,
    key: int,
    benefit: dict[str, Any],
    actor: str,
    amount_fen: int | None = None,
    payee: Payee | None = None,
    region: str | None = None,
    cipher: AccountCipher | None = None,
    versions: dict[str, str | None] | None = None,
) -> int:
    """Write one drafted claim for a granted benefit of ``case``'s answer; its money keys or a refusal.

    ``versions``: the documents' versions already hashed in this run (the monthly run's cache)."""
    per = (benefit.get("repeat") or {}).get("per")
    if per is None or per == "not_paid":
        raise ClaimError(f"“{benefit['label']}”不涉及发放，不能申报")
    document_id, benefit_id = benefit["document"], benefit["id"]
    event_date = _event_date(benefit)
    who = keys.beneficiary(entity, key)
    units: int | None = None
    if keys.per_unit(per):
        units = unpaid_units(policies.document(document_id), case, benefit_id)
        if not units or units < 1:
            raise ClaimError(f"“{benefit['label']}”没有尚未发放的计发单位，不能申报")
        first = _ledger_units(connection, entity, key, benefit_id, case.date) + 1
        money_keys = keys.unit_keys(document_id, benefit_id, per, who, first, units)
    else:
        money_keys = [keys.whole_key(document_id, benefit_id, per, who, event_date)]
    amount = benefit["amount_fen"] if amount_fen is None else amount_fen
    if amount <= 0:
        raise ClaimError("申报金额必须大于 0")
    at = now()
    values = {
        "beneficiary_kind": entity,
        "person_id": key if entity == "person" else None,
        "org_id": key if entity == "organization" else None,
        "region_code": region or case.region or _home_region(connection, entity, key),
        "document_id": document_id,
        "document_version": _document_version(policies, document_id, versions),
        "benefit_id": benefit_id,
        "fund": benefit["fund"],
        "repeat_per": per,
        "event_date": event_date,
        "decided_on": dt.date.fromisoformat(benefit["decided_on"]),
        "amount_fen": amount,
        "units": units,
        "money_key": money_keys[0],
        "explanation": _json({k: v for k, v in benefit.items() if k != "parameters"}),
        "parameters": _json(benefit.get("parameters") or []),
        "flagged": False,
        "status": "drafted",
        **payee_values(payee, cipher),
        "maker": actor,
        "created_at": at,
        "updated_at": at,
    }
    try:
        with connection.begin_nested():
            claim_id = int(connection.execute(insert(CLAIMS).values(**values).returning(CLAIMS.c.id)).scalar_one())
            connection.execute(insert(KEYS), [{"claim_id": claim_id, "money_key": k, "live": True} for k in money_keys])
    except IntegrityError as exc:
        raise DuplicateClaimError(
            f"“{benefit['label']}”按{(benefit.get('repeat') or {}).get('label', '')}计发，"
            f"同一计发依据已有{_holder(connection, money_keys)}，不能重复申报"
        ) from exc
    claim = connection.execute(select(CLAIMS).where(CLAIMS.c.id == claim_id)).one()
    record_event(connection, claim, actor=actor, from_status=None, to_status="drafted", reason="起草申报")
    return claim_id


def evaluated(
    connection: Connection, policies: PolicySet, entity: str, key: int, day: dt.date
) -> tuple[Case, dict[str, Any]]:
    """The registered case on ``day`` and the engine's answer for it (as pages evaluate a person)."""
    case = parse_case(stored_case(connection, entity, key, day))
    return case, evaluate_all(policies, case)


def draft_claim(
    connection: Connection,
    policies: PolicySet,
    *,
    entity: str,
    key: int,
    benefit_id: str,
    day: dt.date,
    actor: str,
    document_id: str | None = None,
    amount_fen: int | None = None,
    payee: Payee | None = None,
    region: str | None = None,
    cipher: AccountCipher | None = None,
) -> int:
    """Draft a claim of one benefit the engine grants this person or organization on ``day``."""
    case, answer = evaluated(connection, policies, entity, key, day)
    found = [
        b for b in answer["benefits"] if b["id"] == benefit_id and (document_id is None or b["document"] == document_id)
    ]
    if not found:
        raise ClaimError(f"政策中没有适用于该对象的项目 {benefit_id}")
    benefit = found[0]
    if benefit["status"] != "granted" or benefit["amount_fen"] <= 0:
        reasons = "；".join(benefit.get("reasons") or [])
        raise ClaimError(f"按政策计算，“{benefit['label']}”{benefit['status_label']}：{reasons}")
    return insert_claim(
        connection,
        policies,
        case,
        entity=entity,
        key=key,
        benefit=benefit,
        actor=actor,
        amount_fen=amount_fen,
        payee=payee,
        region=region,
        cipher=cipher,
    )


def month_end(month: str) -> dt.date:
    """``YYYY-MM`` → its last day, or ValueError with the format expected."""
    try:
        first = dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"月份 {month!r} 格式不正确，应为 YYYY-MM（如 2024-06）") from None
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


@dataclass
class RunReport:
    day: dt.date
    cases: int = 0
    drafted: list[int] = field(default_factory=list)
    duplicates: int = 0
    refused: list[str] = field(default_factory=list)


def _keys_of(connection: Connection, table: Any, region: str | None) -> list[int]:
    column = table.c.hukou_region if table is PERSONS else table.c.region_code
    query = select(table.c.id).order_by(table.c.id)
    if region:
        query = query.where(column.startswith(region))
    return [int(k) for k in connection.scalars(query)]


def _paid(policies: PolicySet, document_id: str, benefit_id: str) -> bool:
    repeat = policies.document(document_id).benefits[benefit_id].repeat
    return repeat is not None and repeat.per != "not_paid"


def granted_beneficiaries(engine: Engine, policies: PolicySet, day: dt.date) -> dict[str, set[int]]:
    """The persons and organizations the population engine grants at least one paid benefit on ``day``
    (status granted, amount above 0), evaluated set-based: the stored population exported to Parquet
    and the policy set's one SQL query on DuckDB (``bangfu policy population --from-database``).

    The same rules as the single-case engine (a property test holds the two to the same answers), so
    the beneficiaries left out are exactly those the case-by-case run would evaluate and draft nothing for."""
    from bangfu.batch.duckdb_backend import DuckDBBackend
    from bangfu.policy.batch_run import evaluate_population
    from bangfu.policy.sql import literal, quote
    from bangfu.registry.population_export import export_population

    found: dict[str, set[int]] = {"person": set(), "organization": set()}
    with tempfile.TemporaryDirectory(prefix="bangfu-claims-run-") as folder:
        with engine.connect() as connection:
            export_population(connection, Path(folder), day)
        backend = DuckDBBackend()
        run = evaluate_population(policies, backend, Path(folder), day)
        for entity_run in run.runs:
            query = entity_run.query
            paid = [k for k in query.benefit_ids if _paid(policies, *query.benefits[k])]
            if not paid:
                continue
            wanted = " OR ".join(
                f"({quote(k + '__status')} = {literal('granted')} AND {quote(k + '__amount_fen')} > 0)" for k in paid
            )
            key = quote(query.entity.key)
            rows = backend.con.execute(f"SELECT {key} FROM {quote('result_' + entity_run.entity)} WHERE {wanted}")
            found[entity_run.entity] = {int(r[0]) for r in rows.fetchall()}
    return found


def monthly_run(
    engine: Engine,
    policies: PolicySet,
    month: str,
    *,
    actor: str,
    region: str | None = None,
    after_draft: Callable[[Connection, int], None] | None = None,
    checker: Any = None,
    prefilter: bool = True,
) -> RunReport:
    """Draft a claim for every benefit the engine grants a registered person or organization at the
    end of ``month``. One transaction per beneficiary: a run killed midway keeps what it committed,
    and running it again drafts only what is missing (the money keys refuse the rest).

    With ``prefilter`` (the default) the whole registry is first evaluated set-based by the population
    engine (``granted_beneficiaries``) and only those it grants a paid benefit are evaluated and drafted
    case by case, through the same ``insert_claim`` and checks as before (ADR 0037); without it every
    beneficiary is evaluated one by one (``stored_case``). ``checker`` (an ``Actor``) auto-checks each
    draft in its transaction, from the answer it was drafted from (not evaluated again)."""
    from bangfu.claims.decisions import check_claim  # decisions reads this module

    day = month_end(month)
    report = RunReport(day)
    with engine.connect() as connection:
        beneficiaries = [("person", k) for k in _keys_of(connection, PERSONS, region)]
        beneficiaries += [("organization", k) for k in _keys_of(connection, ORGANIZATIONS, region)]
    report.cases = len(beneficiaries)
    versions: dict[str, str | None] = {}  # the documents do not change during a run: hashed once
    if prefilter and beneficiaries:
        granted = granted_beneficiaries(engine, policies, day)
        beneficiaries = [(entity, key) for entity, key in beneficiaries if key in granted[entity]]
    for entity, key in beneficiaries:
        with engine.begin() as connection:
            case, answer = evaluated(connection, policies, entity, key, day)
            for benefit in answer["benefits"]:
                per = (benefit.get("repeat") or {}).get("per")
                if benefit["status"] != "granted" or benefit["amount_fen"] <= 0 or per in (None, "not_paid"):
                    continue
                try:
                    claim_id = insert_claim(
                        connection,
                        policies,
                        case,
                        entity=entity,
                        key=key,
                        benefit=benefit,
                        actor=actor,
                        versions=versions,
                    )
                except DuplicateClaimError:
                    report.duplicates += 1
                    continue
                except ClaimError as exc:
                    report.refused.append(str(exc))
                    continue
                report.drafted.append(claim_id)
                if checker is not None:
                    # the answer drafted from is the checks' answer when the claim is decided on the run's day
                    same_day = benefit["decided_on"] == day.isoformat()
                    check_claim(connection, policies, claim_id, checker, answer if same_day else None)
                if after_draft is not None:
                    after_draft(connection, claim_id)
    return report
