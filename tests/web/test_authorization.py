"""The authorization matrix: every role, in its own region and another, against every endpoint and page
that shows a person or an organization. What is outside the account's subtree answers 404 (never 403,
which would confirm the record exists) and never appears in a list, a search or a count."""

from __future__ import annotations

import io

import pytest
from argon2 import PasswordHasher, profiles
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_support import (
    ACCOUNTS,
    TOWN_A,
    XIAODIAN,
    XING,
    Platform,
    add_accounts,
    api_token,
    csrf_of,
    page_login,
    sees,
)

from bangfu.accounts import passwords
from bangfu.store.db import make_engine
from bangfu.store.tables import User

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


# --- account administration --------------------------------------------------------------------------

# Targets placed where the administrators' reaches part: (role, region) by a short key.
TARGETS = {
    "city_lvliang": ("city", "1411"),
    "county_xing": ("county", XING),
    "county_xiaodian": ("county", XIAODIAN),
    "town_a": ("township", TOWN_A),
    "auditor": ("auditor", "1411"),
}
ADMIN_ACTIONS = ("disable", "enable", "reset-password", "revoke-tokens")
RANK = {"province": 0, "city": 1, "county": 2, "township": 3}


def administers(role: str, region: str, target_role: str, target_region: str) -> bool:
    """The rule written out independently of accounts/administration.py."""
    if role == "province":
        return True
    if role in ("township", "auditor") or target_role == "auditor":
        return False
    return RANK[target_role] >= RANK[role] and target_region.startswith(region)


def account_ids(url: str, usernames: list[str]) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = session.execute(select(User.username, User.id).where(User.username.in_(usernames)))
            return {name: user_id for name, user_id in rows}
    finally:
        engine.dispose()


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.mark.usefixtures("cheap_hashing")
@pytest.mark.parametrize("username", USERNAMES)
def test_account_administration_follows_role_and_region(platform: Platform, username: str) -> None:
    role, region = platform.accounts[username]
    names = {key: f"t.{username}.{key}"[:64] for key in TARGETS}
    add_accounts(platform.url, [(names[key], *TARGETS[key]) for key in TARGETS])
    ids = account_ids(platform.url, list(names.values()))
    client = platform.client
    page_login(client, username)
    try:
        listing = client.get("/admin/users")
        if role in ("township", "auditor"):
            assert listing.status_code == 403 and "不能管理账户" in listing.text
            assert 'href="/admin/users"' not in client.get("/").text
        else:
            assert listing.status_code == 200
        csrf = csrf_of(client.get("/account").text)  # the session's token, the same on every page
        for key, (target_role, target_region) in TARGETS.items():
            allowed = administers(role, region, target_role, target_region)
            if role not in ("township", "auditor"):
                assert (f'<td data-label="用户名">{names[key]}</td>' in listing.text) == allowed, (username, key)
            for action in ADMIN_ACTIONS:
                answer = client.post(f"/admin/users/{ids[names[key]]}/{action}", data={"csrf_token": csrf})
                expected = 403 if role in ("township", "auditor") else (200 if allowed else 404)
                assert answer.status_code == expected, (username, key, action, answer.text[-300:])
        # Never itself: its own id answers 404 like an account outside its reach.
        own = account_ids(platform.url, [username])[username]
        answer = client.post(f"/admin/users/{own}/disable", data={"csrf_token": csrf})
        assert answer.status_code == (403 if role in ("township", "auditor") else 404)
        assert client.get("/").status_code == 200  # still signed in and active
    finally:
        client.cookies.clear()
    # The JSON API applies the same rule.
    headers = api_token(client, username)
    listed = client.get("/api/v1/users", params={"per_page": 100}, headers=headers)
    if role in ("township", "auditor"):
        assert listed.status_code == 403
    else:
        shown = {item["username"] for item in listed.json()["items"]}
        assert {key for key in TARGETS if names[key] in shown} == {
            key for key, (target_role, target_region) in TARGETS.items()
            if administers(role, region, target_role, target_region)
        }  # fmt: skip
    for key, (target_role, target_region) in TARGETS.items():
        for action in ADMIN_ACTIONS:
            answer = client.post(f"/api/v1/users/{ids[names[key]]}/{action}", headers=headers)
            allowed = administers(role, region, target_role, target_region)
            expected = 403 if role in ("township", "auditor") else (200 if allowed else 404)
            assert answer.status_code == expected, (username, key, action, answer.text)
            if action == "reset-password" and allowed:
                assert len(answer.json()["temporary_password"]) == 19
