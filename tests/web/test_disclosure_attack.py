"""The attacker of finding 1: an account that may not unmask reads everything it can, and rebuilds ID numbers.

A province account without the unmask permission reads the list, searches, person pages (HTML and
JSON), households, entitlements, the dashboard and the XLSX export for the first 100 persons of a
synthetic registry (``bangfu demo --no-serve``). For each person it then counts the valid ID numbers
consistent with everything shown: the hukou county is taken as the region of issue and the sex as
known (both are shown on purpose), the birth date is known when any text about the person carries
it, else only its year; every digit any masked number reveals is known.

Bounds, and why: an ID number is checked only through the search (an exact lookup, each one written
to the audit log), so a person with at least ``MIN_ID_CANDIDATES`` candidates costs an attacker a
thousand audited lookups, which an audit review sees. Phone numbers have no oracle and no check
digit; ``MIN_PHONE_CANDIDATES`` leaves a million numbers to dial. The old masks (county + birth
date + last four digits; 3 + 4 phone digits) left 1 and 10,000.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import select
from sqlalchemy.orm import Session

from bangfu.accounts.users import add_user
from bangfu.core.citizen_id import CHECK_CHARS, WEIGHTS
from bangfu.registry.imports.upsert.base import table_of
from bangfu.store.db import make_engine
from bangfu.store.tables import Household, Person
from bangfu.web.app import create_app
from database_servers import BACKENDS, postgres_database, settings_for

MIN_ID_CANDIDATES = 1_000
MIN_PHONE_CANDIDATES = 100_000
PERSONS_ATTACKED = 100
PASSWORD = "attacker-password-1"
PERSONS = table_of(Person)
HOUSEHOLDS = table_of(Household)
MASKED_ID = re.compile(r"(?<![0-9X*])[0-9X*]{18}(?![0-9X*])")
MASKED_PHONE = re.compile(r"(?<![0-9*])1[0-9*]{10}(?![0-9*])")


@dataclass(frozen=True)
class Truth:
    id: int
    name: str
    id_number: str
    phone: str | None
    birth_date: dt.date
    household_number: str | None


@pytest.fixture(scope="module", params=BACKENDS)
def attacked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, TestClient]]:
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(tmp_path_factory.mktemp('attack') / 'b.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    try:
        built = subprocess.run(
            [sys.executable, "-m", "bangfu", "demo", "--no-serve", "--persons", "200", "--database", url],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert built.returncode == 0, built.stderr
        engine = make_engine(url)
        with Session(engine) as session, session.begin():
            add_user(
                session,
                username="probe",
                role="province",
                region_code="14",
                password=PASSWORD,
                can_unmask=False,
                actor="tests",
            )
        engine.dispose()
        app = create_app(settings_for(url))
        with TestClient(app, base_url="http://testserver") as client:
            yield url, client
        app.state.context.close()
    finally:
        if hasattr(databases, "close"):
            databases.close()


def _truths(url: str) -> list[Truth]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    PERSONS.c.id,
                    PERSONS.c.name,
                    PERSONS.c.id_number,
                    PERSONS.c.phone,
                    PERSONS.c.birth_date,
                    HOUSEHOLDS.c.household_number,
                )
                .select_from(PERSONS.outerjoin(HOUSEHOLDS, PERSONS.c.household_id == HOUSEHOLDS.c.id))
                .order_by(PERSONS.c.id)
                .limit(PERSONS_ATTACKED)
            ).all()
    finally:
        engine.dispose()
    return [Truth(*row) for row in rows]


def _sign_in(client: TestClient) -> dict[str, str]:
    client.cookies.clear()
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", data={"username": "probe", "password": PASSWORD, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    token = client.post("/api/v1/auth/token", data={"username": "probe", "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _date_texts(day: dt.date) -> tuple[str, ...]:
    return (
        day.isoformat(),
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day:%Y年%m月%d日}",
        f"{day:%Y/%m/%d}",
        f"{day.year}/{day.month}/{day.day}",
    )


def _masks(pattern: re.Pattern[str], corpus: str) -> set[str]:
    """Every masked text in ``corpus`` (a star or more), once each."""
    return {found for found in pattern.findall(corpus) if "*" in found}


def _revealed(masks: set[str], truth: str) -> set[int]:
    """Positions of ``truth`` that some masked text consistent with it shows."""
    shown: set[int] = set()
    for found in masks:
        if len(found) == len(truth) and all(c in ("*", t) for c, t in zip(found, truth, strict=True)):
            shown |= {i for i, c in enumerate(found) if c != "*"}
    return shown


def id_candidates(truth: str, revealed: set[int], date_known: bool, today: dt.date) -> int:
    """Valid ID numbers with ``truth``'s region and sex that agree with it on every revealed position."""

    def agrees(text: str, start: int) -> bool:
        return all(text[i - start] == truth[i] for i in revealed if start <= i < start + len(text))

    year = int(truth[6:10])
    if date_known:
        dates = [truth[6:14]]
    else:
        first, last = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today)
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        dates = [text for day in days if agrees(text := f"{day:%Y%m%d}", 6)]
    sequences = [text for n in range(1000) if n % 2 == int(truth[16]) % 2 and agrees(text := f"{n:03d}", 14)]
    if 17 not in revealed:
        return len(dates) * len(sequences)

    def residues(texts: list[str], start: int) -> list[int]:
        counts = [0] * 11
        for text in texts:
            counts[sum(int(c) * WEIGHTS[start + i] for i, c in enumerate(text)) % 11] += 1
        return counts

    region = sum(int(c) * w for c, w in zip(truth[:6], WEIGHTS, strict=False)) % 11
    by_date, by_sequence = residues(dates, 6), residues(sequences, 14)
    wanted = CHECK_CHARS.index(truth[17])
    return sum(by_date[a] * by_sequence[b] for a in range(11) for b in range(11) if (region + a + b) % 11 == wanted)


def _export_rows(client: TestClient, headers: dict[str, str]) -> list[str]:
    answer = client.get("/api/v1/people/export", headers=headers)
    assert answer.status_code == 200, answer.text[:300]
    sheet = load_workbook(io.BytesIO(answer.content), read_only=True).worksheets[0]
    return ["|".join("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True)]


def test_no_account_without_unmask_rebuilds_an_id_number_or_phone(attacked: tuple[str, TestClient]) -> None:
    url, client = attacked
    truths = _truths(url)
    assert len(truths) == PERSONS_ATTACKED
    headers = _sign_in(client)
    listed: list[str] = []
    page = 1
    while True:  # the whole scope's list, by the API and by the page
        found = client.get("/api/v1/people", params={"region": "14", "per_page": 100, "page": page}, headers=headers)
        assert found.status_code == 200, found.text
        listed += [orjson.dumps(item).decode() for item in found.json()["items"]]
        if page >= found.json()["pages"]:
            break
        page += 1
    export = _export_rows(client, headers)
    everything = "\n".join([*listed, *export, client.get("/api/v1/dashboard", headers=headers).text])
    own: dict[int, str] = {}
    for truth in truths:
        texts = [
            client.get(f"/api/v1/people/{truth.id}", headers=headers).text,
            client.get(f"/api/v1/people/{truth.id}/entitlements", headers=headers).text,
            client.get(f"/people/{truth.id}").text,
            client.get("/people", params={"name": truth.name}).text,
            client.get("/api/v1/people", params={"id_number": truth.id_number}, headers=headers).text,
            *(item for item in listed if f'"id":{truth.id},' in item),
            *(row for row in export if row.startswith(truth.name + "|") and (truth.household_number or "") in row),
        ]
        assert truth.name in texts[0]
        own[truth.id] = "\n".join(texts)
        everything += "\n" + texts[0] + "\n" + texts[2]

    today = dt.date.today()
    id_masks, phone_masks = _masks(MASKED_ID, everything), _masks(MASKED_PHONE, everything)
    weakest: list[tuple[int, str]] = []
    for truth in truths:
        date_known = any(text in own[truth.id] for text in _date_texts(truth.birth_date))
        revealed = _revealed(id_masks | _masks(MASKED_ID, own[truth.id]), truth.id_number)
        count = id_candidates(truth.id_number, revealed, date_known, today)
        if count < MIN_ID_CANDIDATES:
            weakest.append((count, f"{truth.name}（第 {truth.id} 号）身份证号只剩 {count} 种可能"))
        if truth.phone and len(truth.phone) == 11:
            hidden = 11 - len(_revealed(phone_masks | _masks(MASKED_PHONE, own[truth.id]), truth.phone))
            if 10**hidden < MIN_PHONE_CANDIDATES:
                weakest.append((10**hidden, f"{truth.name}（第 {truth.id} 号）手机号只剩 {10**hidden} 种可能"))
    assert not weakest, f"{len(weakest)} 处可还原：" + "；".join(m for _, m in sorted(weakest)[:5])


def test_candidate_count_matches_brute_force() -> None:
    """The counting shortcut (check digit by residues) agrees with trying every number."""
    from bangfu.core.citizen_id import check_digit

    truth = "14112319850301013"
    truth += check_digit(truth)
    revealed = {0, 1, 2, 3, 16, 17}  # what the masked number shows: 1411************3?
    counted = id_candidates(truth, revealed, False, dt.date(2024, 6, 30))
    brute = 0
    for n in range(365):
        day = f"{dt.date(1985, 1, 1) + dt.timedelta(days=n):%Y%m%d}"
        for sequence in range(3, 1000, 10):  # last sequence digit shown (3)
            candidate17 = truth[:6] + day + f"{sequence:03d}"
            brute += check_digit(candidate17) == truth[17]
    assert counted == brute
    assert 3_000 < counted < 3_700  # 365 days × 100 sequences ÷ 11 check characters
