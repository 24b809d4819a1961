"""Finding 2: an unmasked number or an export leaves the server only after its audit entry is committed.

Against ``bangfu serve`` as a real process on loopback, on both back ends: every answer is checked at
once from another connection; the server is killed (SIGKILL) right after answers; and with the audit
log made to refuse appends, the answer is an error that carries no number and no file.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from served import serving
from sqlalchemy import select
from web_support import PASSWORD, Placed, build_registry

from audit_sabotage import refuse_audit_appends
from bangfu.audit.log import verify
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry
from database_servers import BACKENDS, postgres_database

REQUESTS = 30
KILLS = 5


@pytest.fixture(params=BACKENDS)
def registry_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, Placed]]]:
    if request.param == "sqlite":
        databases: Iterator[str] = iter([f"sqlite:///{(tmp_path_factory.mktemp('served') / 'b.db').as_posix()}"])
    else:
        databases = postgres_database()
    url = next(databases)
    try:
        persons, _ = build_registry(url)
        yield url, persons
    finally:
        if hasattr(databases, "close"):
            databases.close()


def _token(base: str) -> dict[str, str]:
    answer = httpx.post(f"{base}/api/v1/auth/token", data={"username": "county_xing", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _unmask_entries(url: str) -> list[tuple[int, str | None]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditEntry.id, AuditEntry.target_id).where(AuditEntry.action == "person.unmask")
            ).all()
    finally:
        engine.dispose()
    return [(row.id, row.target_id) for row in rows]


def test_every_unmask_answer_has_its_audit_entry_already(registry_url: tuple[str, dict[str, Placed]]) -> None:
    url, persons = registry_url
    person = persons["xing_a"]
    engine = make_engine(url)
    misses = 0
    try:
        with serving(url) as (base, _), engine.connect() as watcher:
            headers = _token(base)
            with httpx.Client(base_url=base, headers=headers) as client:
                for asked in range(1, REQUESTS + 1):
                    answer = client.post(f"/api/v1/people/{person.id}/unmask")
                    assert answer.json()["id_number"] == person.id_number
                    # At once, from another connection: the entry must be there already.
                    seen = watcher.scalar(
                        select(AuditEntry.id).where(AuditEntry.action == "person.unmask").order_by(AuditEntry.id.desc())
                    )
                    watcher.rollback()  # a fresh snapshot for the next look
                    count = len(_unmask_entries(url))
                    misses += seen is None or count < asked
    finally:
        engine.dispose()
    assert misses == 0


def test_a_server_killed_after_each_answer_leaves_every_entry(registry_url: tuple[str, dict[str, Placed]]) -> None:
    url, persons = registry_url
    person = persons["xing_b"]
    for round_ in range(1, KILLS + 1):
        with serving(url) as (base, process):
            answer = httpx.post(f"{base}/api/v1/people/{person.id}/unmask", headers=_token(base))
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        assert answer.json()["id_number"] == person.id_number
        assert len(_unmask_entries(url)) == round_
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert verify(connection).ok
    finally:
        engine.dispose()


def test_no_number_and_no_file_when_the_audit_log_refuses(registry_url: tuple[str, dict[str, Placed]]) -> None:
    url, persons = registry_url
    person = persons["xing_a"]
    with serving(url) as (base, _), httpx.Client(base_url=base) as browser:
        headers = _token(base)  # sign in on both ways first; then break the log
        form = browser.get("/login")
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        browser.post("/login", data={"username": "county_xing", "password": PASSWORD, "csrf_token": csrf})
        page = browser.get(f"/people/{person.id}")
        session_csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        refuse_audit_appends(url)
        api = httpx.post(f"{base}/api/v1/people/{person.id}/unmask", headers=headers)
        export = httpx.get(f"{base}/api/v1/people/export", headers=headers)
        shown = browser.post(f"/people/{person.id}/unmask", data={"csrf_token": session_csrf})
    for answer in (api, export, shown):
        assert answer.status_code == 500, answer.text[:200]
        assert person.id_number not in answer.text and person.phone not in answer.text
        assert not answer.content.startswith(b"PK")  # no XLSX (a zip) sent
        assert "sabotaged" not in answer.text and "Traceback" not in answer.text
    assert api.json() == {"detail": "服务器内部错误：操作未完成，请稍后重试；如仍失败请联系管理员"}
    assert _unmask_entries(url) == []
