"""Signing in against a real ``bangfu serve`` over loopback, on SQLite and PostgreSQL (security review 3 and 5).

Findings: a fresh API token was refused when used at once; a page opened right after login went back
to /login; parallel wrong passwords gave 500 "database is locked"; five wrong passwords from anyone
locked the owner out everywhere; behind a proxy one address could lock out everybody.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from live_clients import bearer, client, login_form, page_login, token
from live_server import Live

from bangfu.web.deps import DEVICE_COOKIE

TIMES = 20
WRONG = "wrong password!"


def test_a_new_api_token_works_at_once(live: Live) -> None:
    refusals = 0
    with client(live.base, "10.1.0.1") as session:
        for _ in range(TIMES):
            answer = token(session, "load00")
            assert answer.status_code == 200, answer.text
            refusals += session.get("/api/v1/me", headers=bearer(answer)).status_code == 401
    assert refusals == 0


def test_a_page_opened_right_after_login_is_signed_in(live: Live) -> None:
    back_to_login = 0
    with client(live.base, "10.2.0.1") as session:
        for _ in range(TIMES):
            answer = page_login(session, "load01")
            assert answer.status_code == 303, answer.text
            page = session.get("/")
            back_to_login += page.status_code == 303 and page.headers["location"].startswith("/login")
            assert page.status_code in (200, 303)
    assert back_to_login == 0


def test_fifty_parallel_sign_ins_get_no_server_error(live: Live) -> None:
    """25 right passwords (each its own account) and 25 wrong ones for one account, all at once, pages and API."""
    barrier = threading.Barrier(50, timeout=120)

    def attempt(n: int) -> tuple[bool, int]:
        right = n % 2 == 0
        username, password = (f"load{n:02d}", None) if right else ("parallel", WRONG)
        with client(live.base, f"10.3.{n}.1") as session:
            if n % 4 < 2:
                barrier.wait()
                answer = token(session, username, *([password] if password else []))
            else:
                csrf = login_form(session)
                barrier.wait()
                answer = page_login(session, username, *([password] if password else []), csrf=csrf)
        return right, answer.status_code

    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    assert all(status < 500 for _, status in outcomes), Counter(status for _, status in outcomes)
    assert {status for right, status in outcomes if right} <= {200, 303}
    wrong = Counter(status for right, status in outcomes if not right)
    # The account's limit holds under a burst: five passwords checked, the other twenty refused unchecked.
    assert wrong == Counter({401: 5, 429: 20})


def test_strangers_cannot_lock_the_owner_out(live: Live) -> None:
    with client(live.base, "10.4.0.1") as owner:
        signed_in = page_login(owner, "victim")
        assert signed_in.status_code == 303  # the owner's browser is now a known device
        [device_cookie] = [c for c in signed_in.headers.get_list("set-cookie") if c.startswith(f"{DEVICE_COOKIE}=")]
        assert {"httponly", "samesite=strict", "max-age=15552000"} <= {
            a.strip().lower() for a in device_cookie.split(";")
        }
        with client(live.base, "10.4.1.1") as stranger:
            statuses = [token(stranger, "victim", WRONG).status_code for _ in range(10)]
        assert statuses == [401] * 5 + [429] * 5
        with client(live.base, "10.4.2.1") as someone_new:  # right password, unknown device: waits
            refused = token(someone_new, "victim")
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) <= 300
        # The owner's browser, from any address, still signs in and stays signed in.
        owner.headers["X-Forwarded-For"] = "10.4.3.1"
        assert page_login(owner, "victim").status_code == 303
        assert owner.get("/").status_code == 200
        assert token(owner, "victim").status_code == 200  # the API too, when the client keeps the cookie


def test_one_address_over_its_limit_locks_no_account(live: Live) -> None:
    with client(live.base, "10.6.0.1") as guesser:
        assert [token(guesser, f"nobody{n}", WRONG).status_code for n in range(20)] == [401] * 20
        assert token(guesser, "bystander").status_code == 429  # this address waits, right password or not
    with client(live.base, "10.6.0.2") as neighbour:
        assert token(neighbour, "bystander").status_code == 200
