"""Clients of a live server: each poses as one address behind the trusted proxy, signs in like a browser or a script."""

from __future__ import annotations

import httpx2
from web_support import PASSWORD


def client(base: str, address: str) -> httpx2.Client:
    """A client (keeping cookies, as a browser does) whose requests the proxy says come from ``address``."""
    return httpx2.Client(base_url=base, headers={"X-Forwarded-For": address}, timeout=120, follow_redirects=False)


def token(session: httpx2.Client, username: str, password: str = PASSWORD) -> httpx2.Response:
    return session.post("/api/v1/auth/token", data={"username": username, "password": password})


def bearer(answer: httpx2.Response) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def login_form(session: httpx2.Client) -> str:
    """Open the login page; the CSRF token its form carries."""
    form = session.get("/login")
    assert form.status_code == 200, form.text
    return form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def page_login(
    session: httpx2.Client, username: str, password: str = PASSWORD, csrf: str | None = None
) -> httpx2.Response:
    csrf = csrf or login_form(session)
    return session.post("/login", data={"username": username, "password": password, "csrf_token": csrf})
