"""The web app's composition root: one context from settings, on app.state, closed at shutdown."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi.testclient import TestClient
from web_support import Platform, api_token

from bangfu.policy.model import Policy
from bangfu.policy.policy_set import PolicySet
from bangfu.web.app import create_app
from database_servers import settings_for


def test_the_app_answers_from_its_context_and_closes_it_at_shutdown(
    platform: Platform, policy: Policy, tmp_path: Path
) -> None:
    renamed = dataclasses.replace(policy, title="测试用政策集中的文件")
    app = create_app(settings_for(platform.url), policies=PolicySet.of(renamed), checks_dir=tmp_path)
    context = app.state.context
    assert context.settings.database_url == platform.url
    with TestClient(app) as client:
        answer = client.get("/api/v1/policy", headers=api_token(client, "province"))
        assert answer.status_code == 200 and answer.json()["title"] == "测试用政策集中的文件"
        pool = context.engine.pool
        assert pool.checkedin() >= 1  # the start-up schema check's and the request's connections, pooled
    assert pool.checkedin() == 0  # the lifespan's end closed them
