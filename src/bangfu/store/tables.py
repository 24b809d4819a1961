"""Table definitions (SQLAlchemy 2 typed models) of the registry and the benefit ledger.

The schema itself is created and changed only by the Alembic migrations in ``migrations/``; these
models must match them, which a test checks with Alembic's autogenerate comparison. Money is
integer fen. Closed vocabularies are CHECK constraints on strings rather than database enums:
SQLite has no enums, and a value added to a PostgreSQL enum cannot be used in the transaction
that added it, which complicates a migration that adds a category and back-fills it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    event,
    false,
    func,
    insert,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

from bangfu.core import citizen_id, name_keys
from bangfu.core.disclosure import masked_id_number
from bangfu.core.vocabulary import CATEGORIES, LABOR_CAPACITIES, ORGANIZATION_KINDS, SEX_LABELS

REGION_LEVELS = ("province", "city", "county", "township")
SEXES = ("male", "female")
# The counts an organization declares (persons absorbed, entities hosted …); unknown is NULL, not zero.
DECLARED_COUNTS = (
    "absorbed_poverty_alleviated",
    "absorbed_edge_of_poverty",
    "resident_entities",
    "absorbed_poor_workers",
    "placed_by_export",
    "contracted_households",
)
RECOGNITIONS = ("employment_base", "workshop", "incubator", "heritage_workshop", "hr_agency", "labor_broker")

# Constraint names are part of the schema: later migrations drop and alter them by name, and
# SQLite's batch mode can only recreate a table whose constraints are named.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT keys on PostgreSQL (a national registry passes 2^31 rows of ledger and spells); on SQLite
# only a column declared exactly INTEGER is the auto-numbered rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")


def one_of(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def period_ordered(start: str = "start_date", end: str = "end_date") -> CheckConstraint:
    return CheckConstraint(f"{end} IS NULL OR {end} >= {start}", name="end_not_before_start")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Region(Base):
    """Administrative divisions (GB/T 2260 and statistical township codes), seeded by ``migrate``."""

    __tablename__ = "regions"
    __table_args__ = (CheckConstraint(one_of("level", REGION_LEVELS), name="level"),)

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    statistics_only: Mapped[bool] = mapped_column(default=False)
    # Configuration an administrator edits; re-seeding never overwrites it.
    key_county: Mapped[bool] = mapped_column(default=False)
    relocation_site: Mapped[bool] = mapped_column(default=False)


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (CheckConstraint("member_count IS NULL OR member_count > 0", name="member_count_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    household_number: Mapped[str] = mapped_column(String(32), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    # As the household roster reports them (migration 0003); NULL when never reported. The head is
    # recorded as written, not as a link to persons: rosters list heads who are not registered.
    head_name: Mapped[str | None] = mapped_column(String(64))
    head_id_number: Mapped[str | None] = mapped_column(String(18))
    member_count: Mapped[int | None]
    # Category codes joined by commas (户类别): descriptive only; the rules read persons' categories.
    categories: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))


class Person(Base):
    """A registered person. ``birth_date`` and ``sex`` follow from the ID number: left empty they
    are filled in from it, given they must agree with it (checked before every write)."""

    __tablename__ = "persons"
    __table_args__ = (
        # The people list of a county (ADR 0025): in pinyin order a page at a time, and every column
        # its other sorts and a township's list need, so that they sort the index alone, not the table.
        Index("ix_persons_people_list", "hukou_region", "name_sort", "name", "id", "township_code", "birth_date"),
        CheckConstraint("length(id_number) = 18", name="id_number_length"),
        CheckConstraint(one_of("sex", SEXES), name="sex"),
        CheckConstraint(f"labor_capacity IS NULL OR {one_of('labor_capacity', LABOR_CAPACITIES)}", name="labor"),
        CheckConstraint("residence_region IS NULL OR length(residence_region) >= 6", name="residence_region_length"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # The name in pinyin order (core.name_keys.sort_key), kept with the name by every writer (ADR 0025).
    name_sort: Mapped[str] = mapped_column(String(255), server_default="")
    sex: Mapped[str] = mapped_column(String(6))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    hukou_region: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    # Where the person lives: the county (区、市) whose rules apply, which the policy calls 所在县. Not a
    # foreign key, like work_region: many registered migrant workers live outside Shanxi. Unknown is NULL.
    residence_region: Mapped[str | None] = mapped_column(String(12))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    # The township (乡镇、街道) of the hukou when known (migration 0004): a township assistant's accounts
    # see the persons of their township; NULL is seen only from the county up.
    township_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    labor_capacity: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(20))
    # From the national monitoring system's person table (migration 0006); NULL when never imported
    # from it. ``person_number`` (人口编号) is assigned only there, so it marks who a county's download
    # is expected to list again next month.
    person_number: Mapped[str | None] = mapped_column(String(32))
    relation_to_head: Mapped[str | None] = mapped_column(String(16))
    education: Mapped[str | None] = mapped_column(String(32))
    schooling: Mapped[str | None] = mapped_column(String(32))
    health: Mapped[str | None] = mapped_column(String(32))
    disability: Mapped[str | None] = mapped_column(String(32))
    minimum_living_allowance: Mapped[bool | None]
    extreme_poverty_support: Mapped[bool | None]
    # The day an import first saw 风险是否已消除 = 是 (the download has no date of its own).
    risk_removed_on: Mapped[dt.date | None] = mapped_column(Date)
    # The day of death and where it was learnt (migration 0013, ``bangfu people record-death``): the
    # national download has no death column, so only a recorded notice sets it (ADR 0034).
    died_on: Mapped[dt.date | None] = mapped_column(Date)
    death_source: Mapped[str | None] = mapped_column(String(200))
    # The columns of the imported row Bangfu does not use, as JSON {label: cell}: kept, not dropped.
    original_record: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class PersonNameTerm(Base):
    """The name index (ADR 0025): each character of a person's name and each prefix of its pinyin
    initials, with the person's hukou county, so that "names holding 华 in this county" is one range of
    the primary key. Kept by every writer of ``persons.name`` and ``persons.hukou_region``."""

    __tablename__ = "person_name_terms"
    # On SQLite the key is the table (one B-tree insertion a term, not two: migration 0011, ADR 0030).
    __table_args__ = ({"sqlite_with_rowid": False},)

    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    hukou_region: Mapped[str] = mapped_column(String(12), primary_key=True)
    # No foreign key to persons: this derived index gets about five rows a person from every import, and
    # PostgreSQL's per-row key check cost a million-row national import 80 s (ADR 0025). Searches join
    # persons, so a row whose person is gone matches nothing; nothing deletes persons.
    person_id: Mapped[int] = mapped_column(Id, primary_key=True, index=True)


class PersonCategory(Base):
    """A category held over a period (脱贫人口 from …, 防返贫监测对象 from … to …)."""

    __tablename__ = "person_categories"
    __table_args__ = (
        # Leading person_id, so it is also the index for "categories of this person".
        UniqueConstraint("person_id", "category", "start_date"),
        CheckConstraint(one_of("category", CATEGORIES), name="category"),
        period_ordered(),
        CheckConstraint("relocation_site_code IS NULL OR category = 'relocated'", name="site_only_if_relocated"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    category: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    relocation_site_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))


class PersonYearFacts(Base):
    """A year's work and welfare-post facts as the national system reports them (年度), migration 0006.

    Months and places, not dated spells: the download says how many months someone worked that year,
    not when, so these are kept beside ``employment_spells`` rather than invented into them.
    """

    __tablename__ = "person_year_facts"
    __table_args__ = (
        UniqueConstraint("person_id", "year"),
        CheckConstraint("work_months IS NULL OR (work_months >= 0 AND work_months <= 12)", name="work_months"),
        CheckConstraint(
            "welfare_post_months IS NULL OR (welfare_post_months >= 0 AND welfare_post_months <= 12)",
            name="welfare_post_months",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    year: Mapped[int]
    work_months: Mapped[int | None]
    work_place: Mapped[str | None] = mapped_column(String(100))
    employer_name: Mapped[str | None] = mapped_column(String(200))
    employment_channel: Mapped[str | None] = mapped_column(String(32))
    welfare_post_type: Mapped[str | None] = mapped_column(String(64))
    welfare_post_months: Mapped[int | None]


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("length(credit_code) = 18", name="credit_code_length"),
        CheckConstraint(one_of("kind", ORGANIZATION_KINDS), name="kind"),
        *(
            CheckConstraint(f"{column} IS NULL OR {column} >= 0", name=f"{column}_not_negative")
            for column in DECLARED_COUNTS
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    # Counts as declared by the organization; unknown (NULL) is not zero, the rules ask for it.
    absorbed_poverty_alleviated: Mapped[int | None]
    absorbed_edge_of_poverty: Mapped[int | None]
    resident_entities: Mapped[int | None]
    absorbed_poor_workers: Mapped[int | None]
    placed_by_export: Mapped[int | None]
    contracted_households: Mapped[int | None]
    operating_since: Mapped[dt.date | None] = mapped_column(Date)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))


class OrganizationRecognition(Base):
    """A recognition by the authorities (认定为就业帮扶基地 …) over a period."""

    __tablename__ = "organization_recognitions"
    __table_args__ = (
        UniqueConstraint("org_id", "recognition", "start_date"),
        CheckConstraint(one_of("recognition", RECOGNITIONS), name="recognition"),
        period_ordered(),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    recognition: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)


class OrganizationTrainee(Base):
    """A person trained on the job by an organization (以工代训), the basis of its monthly subsidy."""

    __tablename__ = "organization_trainees"
    __table_args__ = (CheckConstraint("months > 0", name="months_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    # The trainee when registered; an organization's declaration may list people not (yet) in the registry.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    months: Mapped[int]
    # Unknown (NULL) is not "no": the rule asks for it.
    previously_subsidized: Mapped[bool | None]


class EmploymentSpell(Base):
    __tablename__ = "employment_spells"
    __table_args__ = (
        # Not a foreign key: people work all over China, and only Shanxi's counties are in regions.
        CheckConstraint("length(work_region) >= 6", name="work_region_length"),
        period_ordered(),
        CheckConstraint("travel_cost_fen IS NULL OR travel_cost_fen >= 0", name="travel_cost_not_negative"),
        CheckConstraint("monthly_income_fen IS NULL OR monthly_income_fen >= 0", name="monthly_income_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    employer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    employer_name: Mapped[str] = mapped_column(String(200))
    work_region: Mapped[str] = mapped_column(String(12))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    # Unknown (NULL) is not "no" (migration 0004): the in-province transport subsidy asks for it.
    organized_export: Mapped[bool | None]
    export_batch: Mapped[str | None] = mapped_column(String(64))
    labour_contract: Mapped[bool | None]
    social_insurance: Mapped[bool | None]
    travel_cost_fen: Mapped[int | None] = mapped_column(BigInteger)
    job: Mapped[str | None] = mapped_column(String(100))
    monthly_income_fen: Mapped[int | None] = mapped_column(BigInteger)


class TrainingRecord(Base):
    __tablename__ = "training_records"
    __table_args__ = (CheckConstraint("days > 0", name="days_positive"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    provider: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date)
    days: Mapped[int]
    certificate: Mapped[str | None] = mapped_column(String(64))


class BenefitLedgerEntry(Base):
    """A benefit paid (or a correction of one) to exactly one person or one organization."""

    __tablename__ = "benefit_ledger"
    __table_args__ = (
        CheckConstraint(
            "(person_id IS NULL AND org_id IS NOT NULL) OR (person_id IS NOT NULL AND org_id IS NULL)",
            name="one_beneficiary",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    benefit_id: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date)
    # Signed: a correction is a negative entry, never an edit of the original.
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text)
    # Units of the benefit's repeat key paid (days, trainee-months, persons; migration 0007); signed
    # like the amount. Empty where unknown or where the benefit is paid once per person or year.
    units: Mapped[int | None] = mapped_column(BigInteger)


class ImportBatch(Base):
    """One imported file and what became of its rows."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    # Indexed to recognize the same file sent twice.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    # Part of ``rejected``: rows refused because they contradict what is registered (another name).
    conflicts: Mapped[int] = mapped_column(default=0, server_default="0")
    rejects_file: Mapped[str | None] = mapped_column(String(1024))


class ImportChange(Base):
    """One field an import changed on an existing row, with its value before and after (as text)."""

    __tablename__ = "import_changes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"), index=True)
    line: Mapped[int]
    # The changed row's id in the table of the batch's kind (persons, households, ...).
    row_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


ROLES = ("province", "city", "county", "township", "auditor")
SESSION_KINDS = ("page", "api")


class User(Base):
    """An account: a role, and the region whose subtree it sees (migration 0004)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
        # A CHECK on PostgreSQL, triggers on SQLite (migration 0005): auditors read, they never unmask.
        CheckConstraint("role <> 'auditor' OR NOT can_unmask", name="auditor_never_unmasks"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    # The KDF's own encoded form (algorithm, parameters, salt and hash together).
    password_hash: Mapped[str] = mapped_column(String(255))
    # May see ID numbers and phones unmasked (every such view is audited).
    can_unmask: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set for a temporary password (a new account, a reset): the next sign-in must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Base32 secret of the optional TOTP second factor (RFC 6238); NULL when not enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # Time step of the last code accepted: a code is good once (migration 0008).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Made by `bangfu demo` with the published password: `serve` warns (or refuses) while one exists.
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=false())


class SignInDevice(Base):
    """A browser or client that signed in with the right password: a stranger's failures do not slow it.

    Only the SHA-256 of the device's cookie is stored (migration 0005).
    """

    __tablename__ = "sign_in_devices"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuthSession(Base):
    """A page session (cookie) or an API bearer token. Only the SHA-256 of the secret is stored."""

    __tablename__ = "auth_sessions"
    __table_args__ = (CheckConstraint(one_of("kind", SESSION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    # The session's CSRF token (pages only): forms carry it, and it is compared in constant time.
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Each password checked, for throttling by user name, by address and by known device.

    Refusals without a check (throttled) are not rows here: they must not prolong the wait.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "username", "at"), Index(None, "address", "at"), Index(None, "device_id", "at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool]
    # The known device (of this account) the attempt came from; NULL for a stranger (migration 0005).
    device_id: Mapped[int | None] = mapped_column(ForeignKey("sign_in_devices.id"))


class AuditEntry(Base):
    """Append-only, hash-chained record of every write and every unmasked view.

    ``entry_hash`` is SHA-256 over the previous entry's hash and this entry's canonical content, so
    changing or deleting any entry breaks the chain from there on; triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    region_code: Mapped[str | None] = mapped_column(String(12))
    # JSON text (canonical: sorted keys), or NULL.
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single row naming the chain's last entry: appenders lock it, so the chain never forks."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class LocalStandard(Base):
    """A value a city or county set for a standard its level owns (migration 0009; ADR 0023).

    Rows are never changed or deleted (triggers refuse it): a value holds from ``valid_from`` until
    its ``valid_to`` or the next value of the same document, parameter and region begins, so every
    value ever set stays readable. ``audit_id`` is the audit entry written before the row, in its transaction.
    """

    __tablename__ = "local_standards"
    __table_args__ = (
        Index(None, "document_id", "parameter_key", "region_code"),
        period_ordered("valid_from", "valid_to"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    document_id: Mapped[str] = mapped_column(String(64))
    parameter_key: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    # In the parameter's unit: fen for money, days, persons …
    value: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    document_number: Mapped[str] = mapped_column(String(128))
    document_title: Mapped[str] = mapped_column(String(255))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Not a foreign key: PostgreSQL refuses TRUNCATE of a referenced table, and the audit log's own
    # guards (and the tests that play an attacker past them) must stay what protects it.
    audit_id: Mapped[int] = mapped_column(BigInteger)


class PolicyActivation(Base):
    """A programme package switched on or off by a province administrator (migration 0009; ADR 0023).

    Append-only like ``local_standards``: a document's state is its latest row. ``content_hash`` is the
    SHA-256 of the package's files as checked when activated: files changed since then are not active.
    """

    __tablename__ = "policy_activations"
    __table_args__ = (Index(None, "document_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    document_id: Mapped[str] = mapped_column(String(64))
    folder: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool]
    content_hash: Mapped[str | None] = mapped_column(String(64))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    audit_id: Mapped[int] = mapped_column(BigInteger)


class DashboardFigure(Base):
    """Precomputed counts per finest region (township, else county), summed for any region's dashboard.

    Counting 3.3 million persons live for every province dashboard costs seconds; these figures are
    refreshed after imports and loads (and on demand) and carry the time they were computed.
    """

    __tablename__ = "dashboard_figures"

    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    # The day the figures describe (categories held, in work, paid in its year) and when they were counted.
    as_of: Mapped[dt.date] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PersonIdentityError(ValueError):
    """The person's birth date or sex contradicts the ID number."""


def fill_from_id_number(person: Person) -> None:
    """Normalize the ID number, derive birth date and sex from it, and refuse contradictions."""
    checked = citizen_id.check(person.id_number)
    shown = masked_id_number(checked.id)
    if not checked.valid or checked.birth_date is None or checked.sex is None:
        raise PersonIdentityError(f"身份证号 {shown} 无效：{checked.reason}")
    person.id_number = checked.id
    if person.birth_date is None:
        person.birth_date = checked.birth_date
    elif person.birth_date != checked.birth_date:
        raise PersonIdentityError(
            f"身份证号 {shown} 的出生日期为 {checked.birth_date}，与填写的 {person.birth_date} 不符，请核对"
        )
    if person.sex is None:
        person.sex = checked.sex
    elif person.sex != checked.sex:
        given = SEX_LABELS.get(person.sex, person.sex)
        raise PersonIdentityError(
            f"身份证号 {shown} 表明性别为{SEX_LABELS[checked.sex]}，与填写的“{given}”不符，请核对"
        )


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _check_identity(_mapper: Mapper[Any], _connection: Any, person: Person) -> None:
    fill_from_id_number(person)
    person.name_sort = name_keys.sort_key(person.name)


def name_term_rows(person_id: int, name: str, hukou_region: str) -> list[dict[str, Any]]:
    """The ``person_name_terms`` rows of one person."""
    return [
        {"term": term, "hukou_region": hukou_region, "person_id": person_id} for term in name_keys.sorted_terms(name)
    ]


@event.listens_for(Person, "after_insert")
@event.listens_for(Person, "after_update")
def _index_name(_mapper: Mapper[Any], connection: Connection, person: Person) -> None:
    state = inspect(person)
    if state.attrs.name.history.has_changes() or state.attrs.hukou_region.history.has_changes():
        terms = PersonNameTerm.__table__
        assert isinstance(terms, Table)
        connection.execute(delete(terms).where(terms.c.person_id == person.id))
        connection.execute(insert(terms), name_term_rows(person.id, person.name, person.hukou_region))
