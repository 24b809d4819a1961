"""The address sign-in limits and the audit log see, through the application (review finding 5)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_support import Platform

from bangfu.settings import parse_networks
from bangfu.store.tables import AuditEntry, LoginAttempt
from bangfu.web.app import create_app
from database_servers import settings_for


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "recorded"),
    [
        ("192.0.2.7", "10.66.0.1", "192.0.2.7"),  # not our proxy: its header is ignored
        ("127.0.0.1", "6.6.6.6, 10.66.0.2", "10.66.0.2"),  # our proxy: what it saw, not what was forged
    ],
)
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    platform: Platform, peer: str, forwarded_for: str, recorded: str
) -> None:
    app = create_app(settings_for(platform.url, trusted_proxies=parse_networks("127.0.0.1")))
    username = f"spoof.{peer}"
    try:
        with TestClient(app, client=(peer, 50000)) as client:
            answer = client.post(
                "/api/v1/auth/token",
                data={"username": username, "password": "wrong password!"},
                headers={"X-Forwarded-For": forwarded_for},
            )
        assert answer.status_code == 401
        with app.state.context.sessions() as session:
            assert session.scalars(select(LoginAttempt.address).where(LoginAttempt.username == username)).all() == [
                recorded
            ]
            assert session.scalars(select(AuditEntry.address).where(AuditEntry.actor == username)).all() == [recorded]
    finally:
        app.state.context.close()
