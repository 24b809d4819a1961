"""A bounded load test: 50 clients for 20 seconds against a real ``bangfu serve`` on loopback (review finding 3).

Each client is one county official at an address of its own behind the trusted proxy: a third of them
first mistype the password, then each keeps signing in for an API token, using it at once and
searching people. Nothing may answer 5xx, and nothing but the mistyped password may answer 401.
BANGFU_LOAD_SECONDS changes the duration (for a longer run by hand).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from live_clients import bearer, client
from live_server import Live
from web_support import PASSWORD

CLIENTS = 50
TOKEN = "/api/v1/auth/token"
SECONDS = float(os.environ.get("BANGFU_LOAD_SECONDS", "20"))


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, what: str, session: httpx2.Client, method: str, path: str, **options: Any) -> httpx2.Response:
        started = time.perf_counter()
        answer = session.request(method, path, **options)
        with self.lock:
            self.latencies.setdefault(what, []).append(time.perf_counter() - started)
            self.statuses[what, answer.status_code] += 1
        return answer


def run_client(live: Live, n: int, deadline: float, tally: Tally) -> None:
    username = f"load{n:02d}"
    with client(live.base, f"10.5.{n}.1") as session:
        if n % 3 == 0:
            tally.timed("wrong password", session, "POST", TOKEN, data={"username": username, "password": "wrong!"})
        while time.monotonic() < deadline:
            issued = tally.timed("token", session, "POST", TOKEN, data={"username": username, "password": PASSWORD})
            if issued.status_code != 200:
                continue
            headers = bearer(issued)
            tally.timed("use at once", session, "GET", "/api/v1/me", headers=headers)
            for name in ("测试", "测试xing"):
                tally.timed("search", session, "GET", "/api/v1/people", params={"name": name}, headers=headers)


@pytest.mark.slow
def test_fifty_clients_for_twenty_seconds(live: Live) -> None:
    tally = Tally()
    deadline = time.monotonic() + SECONDS
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(run_client, live, n, deadline, tally) for n in range(CLIENTS)]:
            future.result()
    backend = live.url.split(":", 1)[0]
    print(f"\nload {backend}: {sum(tally.statuses.values())} requests in {SECONDS:.0f} s by {CLIENTS} clients")
    for what, latencies in tally.latencies.items():
        ordered = sorted(latencies)
        p50, p95 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]
        print(f"  {what}: {len(ordered)}, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    unexpected = {
        key: count
        for key, count in tally.statuses.items()
        if key[1] >= 500 or (key[1] != 200 and key != ("wrong password", 401))
    }
    assert unexpected == {}
    assert tally.statuses["wrong password", 401] == len(range(0, CLIENTS, 3))
    assert tally.statuses["token", 200] >= CLIENTS  # every client got at least one token
