"""The account pages and sign-in steps on both back ends: a temporary password must be changed before
anything else, the own password change, the TOTP second factor on the page and the token endpoint,
and the administrator page's create and reset."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_support import PASSWORD, Platform, add_accounts, api_token, csrf_of, login_answer, page_login

from bangfu.accounts import passwords, second_factor
from bangfu.store.db import make_engine
from bangfu.store.tables import User
from totp_codes import Codes

NEW = "我自己的新口令足够长了吧"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def signed_out(platform: Platform) -> Iterator[Platform]:
    platform.client.cookies.clear()
    yield platform
    platform.client.cookies.clear()


def admin_creates(platform: Platform, admin: str, **form: str) -> str:
    """Create an account on the administrator page; its one-time temporary password."""
    page_login(platform.client, admin)
    page = platform.client.get("/admin/users")
    assert page.status_code == 200
    answer = platform.client.post("/admin/users", data={"csrf_token": csrf_of(page.text), **form})
    assert answer.status_code == 200, answer.text
    return answer.text.split('<code class="mono">', 1)[1].split("<", 1)[0]


def test_a_temporary_password_allows_nothing_but_changing_it(signed_out: Platform) -> None:
    platform, client = signed_out, signed_out.client
    temporary = admin_creates(platform, "county_xing", username="new.staff", role="township",
                              region="141123100", display_name="新同事")  # fmt: skip
    assert len(temporary) == 19
    refused = client.post("/api/v1/auth/token", data={"username": "new.staff", "password": temporary})
    assert refused.status_code == 403 and "/login" in refused.json()["detail"]
    page_login(client, "new.staff", temporary)
    for path in ("/", "/people", "/account", "/admin/users"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/account/password", path
    form = client.get("/account/password")
    assert form.status_code == 200 and "临时口令" in form.text
    weak = client.post(
        "/account/password",
        data={"csrf_token": csrf_of(form.text), "old": temporary, "new": "qwertyuiop123", "repeated": "qwertyuiop123"},
    )
    assert weak.status_code == 422 and "最常见的口令" in weak.text
    done = client.post(
        "/account/password",
        data={"csrf_token": csrf_of(form.text), "old": temporary, "new": NEW, "repeated": NEW},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get("/").status_code == 200
    token = client.post("/api/v1/auth/token", data={"username": "new.staff", "password": NEW})
    assert token.status_code == 200


def test_changing_the_own_password_ends_the_other_sessions(signed_out: Platform) -> None:
    platform, client = signed_out, signed_out.client
    add_accounts(platform.url, [("own.change", "county", "141124")])
    headers = api_token(client, "own.change")
    page_login(client, "own.change")
    form = client.get("/account/password")
    no_csrf = client.post("/account/password", data={"old": PASSWORD, "new": NEW, "repeated": NEW})
    assert no_csrf.status_code == 403
    done = client.post(
        "/account/password", data={"csrf_token": csrf_of(form.text), "old": PASSWORD, "new": NEW, "repeated": NEW}
    )
    assert done.status_code == 200 and "口令已修改" in done.text
    platform.client.app.state.tokens.forget_account(0)  # nothing cached for another account: no effect
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert login_answer(client, "own.change", PASSWORD).status_code == 401


def test_second_factor_enrolment_and_sign_in(signed_out: Platform) -> None:
    platform, client = signed_out, signed_out.client
    add_accounts(platform.url, [("totp.user", "county", "141124")], can_unmask=True)
    page_login(client, "totp.user")
    page = client.get("/account")
    assert page.status_code == 200 and "<svg" in page.text and "style=" not in page.text
    secret = page.text.split('name="secret" value="', 1)[1].split('"', 1)[0]
    wrong = client.post(
        "/account/second-factor", data={"csrf_token": csrf_of(page.text), "secret": secret, "code": "12345"}
    )
    assert wrong.status_code == 422 and "验证码不对" in wrong.text
    codes = Codes(secret)
    enrolled = client.post(
        "/account/second-factor",
        data={"csrf_token": csrf_of(page.text), "secret": secret, "code": codes.next()},
    )
    assert enrolled.status_code == 200 and "两步验证已启用" in enrolled.text
    # The password alone gives a pending step, not a session.
    step = login_answer(client, "totp.user")
    assert step.status_code == 200 and "两步验证" in step.text and "bangfu_session" not in step.cookies
    assert client.get("/", follow_redirects=False).status_code == 303
    bad = client.post("/login/code", data={"csrf_token": csrf_of(step.text), "code": "000000"})
    if pyotp.TOTP(secret).now() != "000000":
        assert bad.status_code == 401 and "验证码不对" in bad.text
    reused = client.post("/login/code", data={"csrf_token": csrf_of(bad.text), "code": codes.again()})
    assert reused.status_code == 401 and "验证码不对" in reused.text  # the code shown while enrolling
    good = client.post(
        "/login/code", data={"csrf_token": csrf_of(reused.text), "code": codes.next()}, follow_redirects=False
    )
    assert good.status_code == 303 and "bangfu_session" in good.cookies
    # The token endpoint wants the code in the form field totp_code.
    missing = client.post("/api/v1/auth/token", data={"username": "totp.user", "password": PASSWORD})
    assert missing.status_code == 401 and "totp_code" in missing.json()["detail"]
    replayed = client.post(
        "/api/v1/auth/token", data={"username": "totp.user", "password": PASSWORD, "totp_code": codes.again()}
    )
    assert replayed.status_code == 401  # the page's sign-in code, seen once, is spent
    token = client.post(
        "/api/v1/auth/token", data={"username": "totp.user", "password": PASSWORD, "totp_code": codes.next()}
    )
    assert token.status_code == 200


def test_unmask_can_be_made_to_require_the_second_factor(signed_out: Platform) -> None:
    platform = signed_out
    person = next(iter(platform.persons.values()))
    headers = api_token(platform.client, "province")
    platform.client.app.state.require_totp_for_unmask = True
    try:
        refused = platform.client.post(f"/api/v1/people/{person.id}/unmask", headers=headers)
    finally:
        platform.client.app.state.require_totp_for_unmask = False
    assert refused.status_code == 403 and "两步验证" in refused.json()["detail"]
    assert platform.client.post(f"/api/v1/people/{person.id}/unmask", headers=headers).status_code == 200


def test_administrator_page_refusals(signed_out: Platform) -> None:
    client = signed_out.client
    page_login(client, "county_xing")
    page = client.get("/admin/users")
    assert "账户管理" in page.text and "town_a" in page.text and "county_xiaodian" not in page.text
    for form, reason in [
        ({"username": "up.there", "role": "city", "region": "1411"}, "不能在地区"),
        ({"username": "elsewhere", "role": "county", "region": "140105"}, "不能在地区"),
        ({"username": "auditor.x", "role": "auditor", "region": "141123"}, "不能在地区"),
        ({"username": "x", "role": "township", "region": "141123100"}, "用户名“x”不可用"),
    ]:
        answer = client.post("/admin/users", data={"csrf_token": csrf_of(page.text), **form})
        assert answer.status_code == 422 and reason in answer.text, form
    page_login(client, "city_lvliang")  # may not unmask, so may not grant it
    page = client.get("/admin/users")
    answer = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "grant.x",
            "role": "county",
            "region": "141124",
            "can_unmask": "true",
        },
    )
    assert answer.status_code == 422 and "不能把这项权限授予他人" in answer.text


def test_accounts_created_through_the_api_get_a_temporary_password(signed_out: Platform) -> None:
    client = signed_out.client
    headers = api_token(client, "province")
    body = {"username": "api.made", "role": "county", "region_code": "141124", "display_name": "接口新建"}
    made = client.post("/api/v1/users", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["account"]["must_change_password"] is True
    temporary = made.json()["temporary_password"]
    refused = client.post("/api/v1/auth/token", data={"username": "api.made", "password": temporary})
    assert refused.status_code == 403
    auditor = {"username": "api.audit", "role": "auditor", "region_code": "14", "can_unmask": True}
    answer = client.post("/api/v1/users", json=auditor, headers=headers)
    assert answer.status_code == 422 and "审计账号不能查看未脱敏的个人信息" in answer.json()["detail"]
    town = client.post("/api/v1/users", json=body | {"username": "api.town"}, headers=api_token(client, "town_a"))
    assert town.status_code == 403


def test_three_wrong_codes_send_the_user_back_to_the_password(signed_out: Platform) -> None:
    platform, client = signed_out, signed_out.client
    add_accounts(platform.url, [("totp.guess", "county", "141124")])
    secret = pyotp.random_base32()
    codes = Codes(secret)
    engine = make_engine(platform.url)
    try:
        with Session(engine) as session, session.begin():
            user_id = session.scalar(select(User.id).where(User.username == "totp.guess"))
            assert user_id is not None
            second_factor.enrol(session, user_id, secret, codes.next())
    finally:
        engine.dispose()
    step = login_answer(client, "totp.guess")
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    page = step.text
    for _ in range(second_factor.MAX_CODE_FAILURES):
        answer = client.post("/login/code", data={"csrf_token": csrf_of(page), "code": wrong})
        assert answer.status_code == 401
        page = answer.text
    late = client.post("/login/code", data={"csrf_token": csrf_of(page), "code": codes.next()},
                       follow_redirects=False)  # fmt: skip
    assert late.status_code == 303 and late.headers["location"].startswith("/login?next=")
    assert "bangfu_session" not in late.cookies
