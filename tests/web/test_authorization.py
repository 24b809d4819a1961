"""The authorization matrix: every role, in its own region and another, against every endpoint and page
that shows a person or an organization. What is outside the account's subtree answers 404 (never 403,
which would confirm the record exists) and never appears in a list, a search or a count."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from web_support import ACCOUNTS, Platform, api_token, page_login, sees

USERNAMES = [username for username, *_ in ACCOUNTS]
PERSON_API = ("/api/v1/people/{id}", "/api/v1/people/{id}/entitlements?date=2024-06-30")
PERSON_PAGES = ("/people/{id}", "/people/{id}?date=2024-06-30")


@pytest.mark.parametrize("username", USERNAMES)
def test_api_person_records_follow_the_scope(platform: Platform, username: str) -> None:
    role, region = platform.accounts[username]
    headers = api_token(platform.client, username)
    for key, person in platform.persons.items():
        visible = sees(region, role, person)
        for template in PERSON_API:
            answer = platform.client.get(template.format(id=person.id), headers=headers)
            assert answer.status_code == (200 if visible else 404), (username, key, template, answer.text)
            assert person.id_number not in answer.text  # masked even when visible
        found = platform.client.get("/api/v1/people", params={"id_number": person.id_number}, headers=headers)
        assert found.status_code == 200
        assert [item["id"] for item in found.json()["items"]] == ([person.id] if visible else []), (username, key)


@pytest.mark.parametrize("username", USERNAMES)
def test_api_lists_and_counts_hold_only_the_scope(platform: Platform, username: str) -> None:
    role, region = platform.accounts[username]
    headers = api_token(platform.client, username)
    expected = sorted(p.id for p in platform.persons.values() if sees(region, role, p))
    listed = platform.client.get("/api/v1/people", params={"per_page": 100}, headers=headers).json()
    assert sorted(item["id"] for item in listed["items"]) == expected
    assert listed["total"] == len(expected)
    board = platform.client.get("/api/v1/dashboard", headers=headers).json()
    assert board["persons"] == len(expected), username
    assert board["categories"].get("poverty_alleviated", 0) == len(expected)
    organizations = platform.client.get("/api/v1/organizations", params={"per_page": 100}, headers=headers).json()
    expected_orgs = sorted(o.id for o in platform.organizations.values() if sees(region, role, o))
    assert sorted(item["id"] for item in organizations["items"]) == expected_orgs
    for org in platform.organizations.values():
        answer = platform.client.get(f"/api/v1/organizations/{org.id}", headers=headers)
        assert answer.status_code == (200 if sees(region, role, org) else 404)


@pytest.mark.parametrize("username", USERNAMES)
def test_pages_follow_the_scope(platform: Platform, username: str) -> None:
    role, region = platform.accounts[username]
    client = platform.client
    page_login(client, username)
    try:
        for key, person in platform.persons.items():
            visible = sees(region, role, person)
            for template in PERSON_PAGES:
                answer = client.get(template.format(id=person.id))
                assert answer.status_code == (200 if visible else 404), (username, key, template)
                assert person.id_number not in answer.text
            search = client.get("/people", params={"id_number": person.id_number})
            assert search.status_code == 200
            assert (f'href="/people/{person.id}"' in search.text) == visible, (username, key)
        for org in platform.organizations.values():
            answer = client.get(f"/organizations/{org.id}")
            assert answer.status_code == (200 if sees(region, role, org) else 404)
    finally:
        client.cookies.clear()


@pytest.mark.parametrize("username", USERNAMES)
def test_unmask_needs_the_permission_and_the_scope(platform: Platform, username: str) -> None:
    role, region = platform.accounts[username]
    may_unmask = next(flag for name, *_, flag in ACCOUNTS if name == username)
    headers = api_token(platform.client, username)
    for person in platform.persons.values():
        answer = platform.client.post(f"/api/v1/people/{person.id}/unmask", headers=headers)
        if not sees(region, role, person):
            assert answer.status_code == 404
        elif not may_unmask:
            assert answer.status_code == 403
            assert "权限" in answer.json()["detail"]
        else:
            assert answer.status_code == 200
            assert answer.json()["id_number"] == person.id_number


def test_every_api_path_needs_a_token(platform: Platform) -> None:
    schema = platform.client.get("/openapi.json").json()
    person = next(iter(platform.persons.values()))
    for path, operations in schema["paths"].items():
        if path == "/api/v1/auth/token":
            continue
        concrete = path.replace("{person_id}", str(person.id)).replace("{org_id}", "1")
        for method in operations:
            answer = platform.client.request(method.upper(), concrete)
            assert answer.status_code == 401, (method, path)
            assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/", "/people", "/people/1", "/organizations", "/organizations/1"])
def test_pages_without_login_redirect_to_it(platform: Platform, path: str) -> None:
    platform.client.cookies.clear()
    answer = platform.client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("username", USERNAMES)
def test_exports_hold_exactly_the_scope(platform: Platform, username: str) -> None:
    role, region = platform.accounts[username]
    answer = platform.client.get("/api/v1/people/export", headers=api_token(platform.client, username))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(answer.content), read_only=True).active.iter_rows(values_only=True))
    expected = {f"测试{key}" for key, person in platform.persons.items() if sees(region, role, person)}
    assert {row[0] for row in rows[1:]} == expected
    assert not any(person.id_number in str(cell) for person in platform.persons.values() for r in rows for cell in r)
