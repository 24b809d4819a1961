"""A client generated from the live server's /openapi.json by a standard generator (openapi-python-client)
runs the README's API examples against a real ``bangfu serve`` (ADR 0029).

The client is generated afresh into the test's folder, so the test fails as soon as the document stops
describing what the server answers: a missing model, an undeclared status, a field of another type
(the generated parsers raise on those). Nothing is committed under clients/: there is nothing to keep
up to date.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
import pytest
from live_server import Live
from openpyxl import load_workbook
from web_support import PASSWORD

from bangfu.web.routes.api import EXAMPLE_CASE

PACKAGE = "bangfu_client"
# The configuration the README gives county offices: the test generates exactly what they would.
CONFIG = Path(__file__).resolve().parents[2] / "docs" / "examples" / "openapi-python-client.yaml"
ADDRESS = "10.29.0.1"  # this test's clients, behind the live server's trusted proxy


def generate(base: str, folder: Path) -> Path:
    """Generate the client package from ``base``'s /openapi.json into ``folder``; its parent folder."""
    document = httpx2.get(f"{base}/openapi.json", timeout=30)
    assert document.status_code == 200
    (folder / "openapi.json").write_bytes(document.content)
    generator = Path(sys.executable).with_name("openapi-python-client")
    command = [
        str(generator), "generate", "--path", str(folder / "openapi.json"), "--output-path",
        str(folder / "src" / PACKAGE), "--meta", "none", "--config", str(CONFIG),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # Every operation and every answer made it into the client: nothing the generator could not read.
    assert "Unable to" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert "will be omitted" not in done.stdout + done.stderr, done.stdout + done.stderr
    return folder / "src"


@pytest.fixture
def bangfu_client(live: Live, tmp_path: Path) -> Iterator[Any]:
    """The generated package, imported; forgotten again afterwards (each back end generates its own)."""
    sys.path.insert(0, str(generate(live.base, tmp_path)))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.pop(0)
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operation(tag: str, name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def test_the_readme_examples_through_a_generated_client(live: Live, bangfu_client: Any) -> None:
    anonymous = bangfu_client.Client(base_url=live.base, headers={"X-Forwarded-For": ADDRESS}, timeout=60)
    # curl -X POST …/api/v1/auth/token -d 'username=…&password=…'
    body = model("BodyIssueToken")(username="county_xing", password=PASSWORD)
    issued = operation("auth", "issue_token").sync(client=anonymous, body=body)
    assert isinstance(issued, model("TokenResponse")), issued
    assert issued.token_type == "bearer" and issued.expires_in > 0
    wrong = operation("auth", "issue_token").sync_detailed(
        client=anonymous, body=model("BodyIssueToken")(username="county_xing", password="wrong password!")
    )
    assert wrong.status_code == 401 and isinstance(wrong.parsed, model("ErrorResponse"))
    assert "口令" in wrong.parsed.detail or "用户名" in wrong.parsed.detail, wrong.parsed.detail

    api = bangfu_client.AuthenticatedClient(
        base_url=live.base, token=issued.access_token, headers={"X-Forwarded-For": ADDRESS}, timeout=60
    )
    me = operation("auth", "me").sync(client=api)
    assert isinstance(me, model("Me")) and (me.role, me.region_code) == ("county", "141123")

    # POST …/policy/evaluate -d @case.json; without "date" the case is evaluated for today
    undated = {key: value for key, value in EXAMPLE_CASE.items() if key != "date"}
    case = model("EvaluateCase").from_dict(undated)
    evaluated = operation("policy", "evaluate").sync(client=api, body=case)
    assert isinstance(evaluated, model("Evaluation")), evaluated
    assert evaluated.date == dt.date.today().isoformat() and evaluated.entity == "person"
    dated = operation("policy", "evaluate").sync(client=api, body=model("EvaluateCase").from_dict(EXAMPLE_CASE))
    granted = {benefit.id for benefit in dated.benefits if benefit.eligible}
    assert "transport_cross_province" in granted, granted
    refused = operation("policy", "evaluate").sync_detailed(
        client=api, body=model("EvaluateCase").from_dict({**EXAMPLE_CASE, "date": "30.06.2024"})
    )
    assert refused.status_code == 422 and isinstance(refused.parsed, model("InvalidRequest"))
    assert "date" in refused.parsed.detail

    # GET …/policy?date=2026-06-30
    policy = operation("policy", "policy").sync(client=api, date=dt.date(2026, 6, 30))
    assert isinstance(policy, model("PolicyDescription")) and policy.date == "2026-06-30"
    assert any(document["id"] == "shanxi-2021" for document in policy.documents)

    # GET …/people?name=华&region=蔚汾镇&sort=-birth_year&per_page=50: one page shape everywhere
    people = operation("people", "search_people")
    page = people.sync(client=api, name="华", region="蔚汾镇", sort="-birth_year", per_page=50)
    assert isinstance(page, model("PersonPage")) and (page.total, page.per_page, page.pages) == (0, 50, 0)
    page = people.sync(client=api, name="测试", region="蔚汾镇", sort="-birth_year", per_page=50)
    assert [person.name for person in page.items] == ["测试xing_a"] and page.total == 1
    found = page.items[0]
    assert "*" in found.id_number_masked and found.township_name == "蔚汾镇"
    unknown_region = people.sync_detailed(client=api, region="龙泉镇")
    assert unknown_region.status_code == 422 and unknown_region.parsed.field == "region"

    # GET …/people/42 (masked) and …/people/42/entitlements?date=2024-06-30
    detail = operation("people", "person").sync(client=api, person_id=found.id)
    assert isinstance(detail, model("PersonDetail")) and detail.summary.id == found.id
    assert detail.employment and detail.employment[0].employer_in_scope is False
    missing = operation("people", "person").sync_detailed(client=api, person_id=999_999)
    assert missing.status_code == 404 and "未找到" in missing.parsed.detail
    entitled = operation("people", "entitlements").sync(client=api, person_id=found.id, date=dt.date(2024, 6, 30))
    assert isinstance(entitled, model("Evaluation")) and entitled.date == "2024-06-30"

    # GET …/people/export (masked, audited), with the search's filters
    roster = operation("people", "export_roster").sync(client=api, region="蔚汾镇")
    rows = list(load_workbook(io.BytesIO(roster.payload.read()), read_only=True).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["测试xing_a"]

    # Organizations: the same page shape, a detail, an export
    organizations = operation("organizations", "search_organizations").sync(client=api, per_page=10)
    assert isinstance(organizations, model("OrganizationPage")) and organizations.total == 1
    org = operation("organizations", "organization").sync(client=api, org_id=organizations.items[0].id)
    assert isinstance(org, model("OrganizationDetail")) and org.summary.name == "org_xing 有限公司"
    exported = operation("organizations", "export_organizations").sync(client=api)
    rows = list(load_workbook(io.BytesIO(exported.payload.read()), read_only=True).active.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["org_xing 有限公司"]

    # Accounts: the same page shape again
    accounts = operation("users", "list_users").sync(client=api, per_page=2)
    assert isinstance(accounts, model("AccountPage")) and len(accounts.items) == 2
    assert accounts.total >= 2 and accounts.pages == -(-accounts.total // 2)
    board = operation("dashboard", "dashboard_figures").sync(client=api)
    assert isinstance(board, model("Dashboard")) and board.persons == 3

    # Claims (ADR 0032): a township assistant drafts, the county lists and approves; one page shape again
    town_token = operation("auth", "issue_token").sync(
        client=anonymous, body=model("BodyIssueToken")(username="town_a", password=PASSWORD)
    )
    town = bangfu_client.AuthenticatedClient(
        base_url=live.base, token=town_token.access_token, headers={"X-Forwarded-For": ADDRESS}, timeout=60
    )
    draft = model("DraftBody")(person_id=found.id, benefit_id="transport_cross_province", document_id="shanxi-2026")
    made = operation("claims", "draft_claim").sync(client=town, body=draft)
    assert isinstance(made, model("ClaimOutcome")) and made.claim.summary.maker == "town_a"
    again = operation("claims", "draft_claim").sync_detailed(client=town, body=draft)
    assert again.status_code == 409 and "不能重复申报" in again.parsed.detail
    queue = operation("claims", "list_claims").sync(client=api, status="checked", flagged=False)
    assert isinstance(queue, model("ClaimPage")) and made.claim.summary.id in [c.id for c in queue.items]
    claim_id = made.claim.summary.id
    refused = operation("claims", "claim_action").sync_detailed(
        client=town, claim_id=claim_id, action=model("ClaimActionAction")("approve"), body=model("ActionBody")()
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, model("ErrorResponse"))
    approved = operation("claims", "claim_action").sync(
        client=api,
        claim_id=claim_id,
        action=model("ClaimActionAction")("approve"),
        body=model("ActionBody")(seen_status="checked"),
    )
    assert isinstance(approved, model("ClaimOutcome")) and approved.claim.summary.status == "approved"
    shown = operation("claims", "claim").sync(client=api, claim_id=claim_id)
    assert isinstance(shown, model("ClaimDetail")) and [e.to_status for e in shown.events][-1] == "approved"
