"""The claims API on SQLite and PostgreSQL: the same scope, permissions and refusals as the claim pages,
the one page shape of every list, and what /openapi.json says about it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from claims_web_support import ClaimsPlatform, audit_of, claim_row, claims_platform, drafted, event_count
from web_support import api_token

from database_servers import BACKENDS

CLAIMS = "/api/v1/claims"


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClaimsPlatform]:
    yield from claims_platform(request, tmp_path_factory)


def person(site: ClaimsPlatform, place: str, n: int) -> int:
    assert site.extra is not None
    return site.extra[place][n]


def test_draft_list_and_detail(site: ClaimsPlatform) -> None:
    client = site.client
    town = api_token(client, "town_a")
    target = person(site, "town_a", 0)
    body = {"person_id": target, "benefit_id": "transport_cross_province", "document_id": "shanxi-2026"}
    made = client.post(CLAIMS, json=body, headers=town)
    assert made.status_code == 201, made.text
    claim = made.json()["claim"]
    claim_id = claim["summary"]["id"]
    assert claim["summary"]["maker"] == "town_a" and claim["summary"]["status"] == "checked"
    assert claim["summary"]["amount_fen"] == 80_000 and "*" in claim["summary"]["id_number_masked"]
    assert [e["to_status"] for e in claim["events"]] == ["drafted", "checked"]
    assert all(check["passed"] for check in claim["checks"]) and claim["explanation"]["clause"]
    assert [a for a, _ in audit_of(site.url, claim_id, "claim.drafted")] == ["town_a"]
    twice = client.post(CLAIMS, json=body, headers=town)
    assert twice.status_code == 409 and f"同一计发依据已有申报 {claim_id}" in twice.json()["detail"]
    # a person of another township, a benefit not granted, a role that only reads
    elsewhere = {**body, "person_id": person(site, "town_b", 0)}
    assert client.post(CLAIMS, json=elsewhere, headers=town).status_code == 404
    unknown = client.post(CLAIMS, json={**body, "benefit_id": "nothing"}, headers=town)
    assert unknown.status_code == 422 and unknown.json()["field"] == "benefit"
    auditor = api_token(client, "auditor_lvliang")
    assert (
        client.post(CLAIMS, json={**body, "person_id": person(site, "town_a", 1)}, headers=auditor).status_code == 403
    )

    county = api_token(client, "county_xing")
    page = client.get(CLAIMS, params={"status": "checked", "flagged": "false"}, headers=county).json()
    assert set(page) == {"items", "total", "page", "per_page", "pages"}
    assert claim_id in [item["id"] for item in page["items"]]
    detail = client.get(f"{CLAIMS}/{claim_id}", headers=county)
    assert detail.status_code == 200 and detail.json()["summary"]["benefit_label"] == "跨省务工一次性交通补贴"
    bad = client.get(CLAIMS, params={"status": "bogus"}, headers=county)
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    other = api_token(client, "county_xiaodian")
    assert claim_id not in [item["id"] for item in client.get(CLAIMS, headers=other).json()["items"]]
    assert client.get(f"{CLAIMS}/{claim_id}", headers=other).status_code == 404
    assert client.get(f"{CLAIMS}/999999999", headers=county).status_code == 404
    assert client.get(CLAIMS).status_code == 401


def test_actions_refused_and_done(site: ClaimsPlatform) -> None:
    client = site.client
    claim_id = drafted(site.url, person(site, "town_a", 2), "town_a")
    own = drafted(site.url, person(site, "town_a", 3), "county_xing")
    events = event_count(site.url, claim_id)
    town, auditor = api_token(client, "town_a"), api_token(client, "auditor_lvliang")
    county, other = api_token(client, "county_xing"), api_token(client, "county_xiaodian")
    assert client.post(f"{CLAIMS}/{claim_id}/approve", json={}, headers=town).status_code == 403
    assert client.post(f"{CLAIMS}/{claim_id}/reject", json={"reason": "x"}, headers=auditor).status_code == 403
    assert client.post(f"{CLAIMS}/{claim_id}/approve", json={}, headers=other).status_code == 404
    mine = client.post(f"{CLAIMS}/{own}/approve", json={}, headers=county)
    assert mine.status_code == 403 and "经办与审批分离" in mine.json()["detail"]
    missing = client.post(f"{CLAIMS}/{claim_id}/reject", json={"reason": " "}, headers=county)
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    assert client.post(f"{CLAIMS}/{claim_id}/pay", json={}, headers=county).status_code == 422
    assert client.post(f"{CLAIMS}/999999999/approve", json={}, headers=county).status_code == 404
    assert (claim_row(site.url, claim_id).status, event_count(site.url, claim_id)) == ("checked", events)

    done = client.post(f"{CLAIMS}/{claim_id}/approve", json={"seen_status": "checked"}, headers=county)
    assert done.status_code == 200, done.text
    assert (
        done.json()["done"] == f"申报 {claim_id} 已批准"
        and done.json()["claim"]["summary"]["approver"] == "county_xing"
    )
    assert [a for a, _ in audit_of(site.url, claim_id, "claim.approved")] == ["county_xing"]
    # a second officer who saw it checked: refused, nothing changed
    stale = client.post(
        f"{CLAIMS}/{claim_id}/return", json={"reason": "补材料", "seen_status": "checked"}, headers=county
    )
    assert stale.status_code == 409 and "已被他人处理" in stale.json()["detail"]
    assert claim_row(site.url, claim_id).status == "approved"
    # approved → returned is allowed (with a reason), and the assistant withdraws it
    back = client.post(f"{CLAIMS}/{claim_id}/return", json={"reason": "补充务工证明"}, headers=county)
    assert back.status_code == 200 and back.json()["claim"]["summary"]["status"] == "returned"
    gone = client.post(f"{CLAIMS}/{claim_id}/withdraw", json={"reason": "本人放弃"}, headers=town)
    assert gone.status_code == 200 and claim_row(site.url, claim_id).status == "withdrawn"
    # a flagged claim: an override needs its reason
    flagged = drafted(site.url, person(site, "town_a", 4), "town_a", amount_fen=85_000)
    plain = client.post(f"{CLAIMS}/{flagged}/approve", json={}, headers=county)
    assert plain.status_code == 422 and plain.json()["field"] == "reason"
    listed = client.get(CLAIMS, params={"flagged": "true", "status": "checked"}, headers=county).json()["items"]
    assert [item["id"] for item in listed] == [flagged]
    override = client.post(f"{CLAIMS}/{flagged}/approve", json={"reason": "票据核实"}, headers=county)
    assert override.status_code == 200 and audit_of(site.url, flagged, "claim.approved")[0][1]["override"] == "票据核实"


def test_the_openapi_document_describes_the_claims(site: ClaimsPlatform) -> None:
    document = site.client.get("/openapi.json").json()
    paths = document["paths"]
    assert {"get", "post"} <= set(paths[CLAIMS]) and "get" in paths[f"{CLAIMS}/{{claim_id}}"]
    action = paths[f"{CLAIMS}/{{claim_id}}/{{action}}"]["post"]
    assert {"200", "403", "404", "409", "422"} <= set(action["responses"])
    assert "起草人不能批准" in action["responses"]["403"]["description"]
    assert {"ClaimPage", "ClaimDetail", "ClaimSummary", "ClaimOutcome"} <= set(document["components"]["schemas"])
    assert any(tag["name"] == "claims" for tag in document["tags"])
