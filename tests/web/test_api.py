"""The JSON API: the token contract, evaluation equal to the CLI's, errors in Chinese, masking, audit."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner
from web_support import PASSWORD, Platform, api_token, page_login

from bangfu.audit.log import verify
from bangfu.cli import app as cli
from bangfu.store.db import make_engine
from bangfu.store.tables import AuditEntry

EXAMPLES = resources.files("bangfu") / "data" / "examples"


def test_token_contract(platform: Platform) -> None:
    answer = platform.client.post("/api/v1/auth/token", data={"username": "province", "password": PASSWORD})
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    me = platform.client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["role"] == "province"


@pytest.mark.parametrize(("username", "password"), [("province", "wrong-password-1"), ("nobody", PASSWORD)])
def test_wrong_credentials_answer_alike(platform: Platform, username: str, password: str) -> None:
    answer = platform.client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "用户名或口令错误"  # never says whether the user exists


def test_bad_tokens_are_refused(platform: Platform) -> None:
    for header in ("Bearer not-a-token", "Basic cHJvdmluY2U6eA=="):
        answer = platform.client.get("/api/v1/me", headers={"Authorization": header})
        assert answer.status_code == 401
        assert "令牌" in answer.json()["detail"]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.name.endswith(".json")))
def test_evaluate_equals_the_cli(platform: Platform, example: str) -> None:
    case = json.loads((EXAMPLES / example).read_text(encoding="utf-8"))
    answer = platform.client.post("/api/v1/policy/evaluate", json=case, headers=api_token(platform.client, "town_a"))
    assert answer.status_code == 200, answer.text
    printed = CliRunner().invoke(cli, ["policy", "evaluate", str(EXAMPLES / example)])
    assert printed.exit_code == 0
    assert answer.json() == json.loads(printed.stdout)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"date": "2024-13-01", "person": {}}, "date："),
        ({"date": "2024-06-30"}, "person（个人）或 organization（单位）"),
        ({"date": "2024-06-30", "person": {"categories": "poverty_alleviated"}}, "person.categories"),
        ({"date": "2024-06-30", "person": {"employment": [{"travel_cost_fen": 9.5}]}}, "travel_cost_fen"),
    ],
)
def test_evaluate_explains_bad_cases(platform: Platform, case: dict[str, object], message: str) -> None:
    answer = platform.client.post("/api/v1/policy/evaluate", json=case, headers=api_token(platform.client, "province"))
    assert answer.status_code == 422
    assert message in answer.json()["detail"]


def test_evaluate_refuses_what_is_not_json(platform: Platform) -> None:
    headers = api_token(platform.client, "province") | {"Content-Type": "application/json"}
    answer = platform.client.post("/api/v1/policy/evaluate", content=b"{not json", headers=headers)
    assert answer.status_code == 422
    assert "请求体" in answer.json()["detail"]


def test_search_explains_a_bad_id_number(platform: Platform) -> None:
    answer = platform.client.get(
        "/api/v1/people", params={"id_number": "141123198503011234"}, headers=api_token(platform.client, "province")
    )
    assert answer.status_code == 422
    assert "身份证号" in answer.json()["detail"]


def test_id_number_search_accepts_how_people_write_them(platform: Platform) -> None:
    person = platform.persons["xing_a"]
    written = " " + person.id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９")).lower() + " "
    answer = platform.client.get(
        "/api/v1/people", params={"id_number": written}, headers=api_token(platform.client, "province")
    )
    assert [item["id"] for item in answer.json()["items"]] == [person.id]


def test_records_are_masked(platform: Platform) -> None:
    person = platform.persons["xing_a"]
    answer = platform.client.get(f"/api/v1/people/{person.id}", headers=api_token(platform.client, "province"))
    text = answer.text
    assert person.id_number not in text and person.phone not in text
    assert person.id_number[:4] + "*" * 12 + person.id_number[-2:] in text
    assert answer.json()["summary"]["birth_year"] == 1985 and "1985-03-" not in text


def test_unmasking_is_audited_and_the_chain_holds(platform: Platform) -> None:
    person = platform.persons["xing_b"]
    engine = make_engine(platform.url)
    try:
        with engine.connect() as connection:
            before = len(connection.scalars(select(AuditEntry.id).where(AuditEntry.action == "person.unmask")).all())
        answer = platform.client.post(
            f"/api/v1/people/{person.id}/unmask", headers=api_token(platform.client, "county_xing")
        )
        assert answer.status_code == 200
        assert answer.json() == {"id_number": person.id_number, "phone": person.phone, "birth_date": "1985-03-02"}
        with engine.connect() as connection:
            entries = connection.execute(
                select(AuditEntry).where(AuditEntry.action == "person.unmask").order_by(AuditEntry.id)
            ).all()
            assert len(entries) == before + 1
            assert (entries[-1].actor, entries[-1].target_id) == ("county_xing", str(person.id))
            assert verify(connection).ok
    finally:
        engine.dispose()


def test_security_headers(platform: Platform) -> None:
    for path in ("/login", "/api/v1/me", "/self-check", "/static/css/bangfu.css"):
        headers = platform.client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
        if not path.startswith("/static/"):
            assert headers["cache-control"] == "no-store"


def test_openapi_document_and_no_cdn_docs(platform: Platform) -> None:
    schema = platform.client.get("/openapi.json").json()
    assert {"/api/v1/auth/token", "/api/v1/policy/evaluate", "/api/v1/people", "/api/v1/people/{person_id}"} <= set(
        schema["paths"]
    )
    assert platform.client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_every_operation_with_a_body_declares_the_size_refusal(platform: Platform) -> None:
    schema = platform.client.get("/openapi.json").json()
    with_body = [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert {("/api/v1/auth/token", "post"), ("/api/v1/policy/evaluate", "post")} <= {(p, m) for p, m, _ in with_body}
    for path, method, operation in with_body:
        declared = operation["responses"].get("413")
        assert declared, f"{method} {path} does not declare 413"
        assert declared["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    # The declaration says what the middleware answers: a JSON error in that shape.
    headers = {**api_token(platform.client, "province"), "Content-Type": "application/json"}
    refused = platform.client.post("/api/v1/policy/evaluate", content=b"[" + b" " * 2_000_000 + b"]", headers=headers)
    assert refused.status_code == 413 and "请求内容过大" in refused.json()["detail"]
    assert all("requestBody" not in operation for operation in schema["paths"]["/api/v1/people"].values())


def test_a_lookup_by_id_number_is_audited_and_shows_no_more_than_typed(platform: Platform) -> None:
    """A search by full number confirms a guess: each one, hit or miss, is on the audit log (ADR 0011)."""
    person = platform.persons["xing_a"]
    headers = api_token(platform.client, "city_lvliang")  # may not unmask
    engine = make_engine(platform.url)
    try:
        with engine.connect() as connection:
            before = connection.scalar(select(func.max(AuditEntry.id)))
        hit = platform.client.get("/api/v1/people", params={"id_number": person.id_number}, headers=headers)
        miss = platform.client.get("/api/v1/people", params={"id_number": "110101199003074514"}, headers=headers)
        assert [item["id"] for item in hit.json()["items"]] == [person.id] and miss.json()["items"] == []
        assert person.id_number not in hit.text and "birth_date" not in hit.text
        with engine.connect() as connection:
            entries = connection.execute(select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)).all()
            lookups = [e for e in entries if e.action == "person.lookup"]
            found = [(e.actor, e.target_id) for e in lookups]
            assert found == [("city_lvliang", str(person.id)), ("city_lvliang", None)]
            assert person.id_number not in " ".join(str(e.after) for e in lookups)
            assert verify(connection).ok
    finally:
        engine.dispose()


def test_an_evaluation_date_out_of_range_is_explained_not_a_server_error(platform: Platform) -> None:
    # Found by schemathesis: a stored case on 0722-05-15 was refused by parse_case as a 500.
    person = platform.persons["xing_a"]
    headers = api_token(platform.client, "province")
    answer = platform.client.get(f"/api/v1/people/{person.id}/entitlements?date=0722-05-15", headers=headers)
    assert answer.status_code == 422
    assert answer.json()["detail"] == "案例字段 date：日期 0722-05-15 超出范围，应在 1900-01-01 至 2100-12-31 之间"


def test_people_api_finds_fragments_sorts_and_names_the_bad_field(platform: Platform) -> None:
    headers = api_token(platform.client, "city_lvliang")
    found = platform.client.get(
        "/api/v1/people", params={"name": "试", "region": "兴县", "sort": "-name", "per_page": 2}, headers=headers
    )
    assert found.status_code == 200
    body = found.json()
    assert [p["name"] for p in body["items"]] == ["测试xing_none", "测试xing_b"]
    assert (body["total"], body["pages"]) == (3, 2)
    refused = platform.client.get("/api/v1/people", params={"region": "龙泉镇"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["field"] == "region" and "有多个地区名为“龙泉镇”" in refused.json()["detail"]


def test_people_api_filters_by_work_situation_like_the_list(platform: Platform) -> None:
    headers = api_token(platform.client, "city_lvliang")

    def total(**params: str) -> int:
        answer = platform.client.get("/api/v1/people", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["total"])

    # Every registered person of 吕梁 works in Shenzhen (outside Shanxi) from 2024-03-01 on.
    assert total(work="cross_province") == total() == 4
    assert total(work="in_county") == 0
    assert total(work="cross_province", region="兴县") == 3
    page_login(platform.client, "city_lvliang")
    assert "共 4 人" in platform.client.get("/people", params={"work": "cross_province"}).text
    refused = platform.client.get("/api/v1/people", params={"work": "abroad"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["field"] == "work" and "务工情况“abroad”无效" in refused.json()["detail"]
    assert total(village="不存在的村") == 0
