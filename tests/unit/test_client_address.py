"""Which address a request came from: X-Forwarded-For believed only from the trusted proxies (review finding 5)."""

from __future__ import annotations

import pytest

from bangfu.settings import parse_networks
from bangfu.web.client_address import forwarded_client

PROXIES = parse_networks("127.0.0.1, 10.0.0.0/8, ::1")


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        # A client talking to us directly writes what it likes: ignored.
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        ("203.0.113.7", [], "203.0.113.7"),
        # Through our proxy: the address it saw, the right-most entry.
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # A client that forged an entry before the proxy appended the real one: the forgery is left of it.
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # the header given twice
        # Two proxies of ours in a row: skip them both.
        ("10.0.0.5", ["198.51.100.1, 10.1.2.3"], "198.51.100.1"),
        # Only our own machines on the way: the first of them is where it began.
        ("127.0.0.1", ["10.1.2.3"], "10.1.2.3"),
        ("127.0.0.1", [], "127.0.0.1"),
        # Garbage where an address should be: nothing left of it can be believed, so the proxy itself.
        ("127.0.0.1", ["198.51.100.1, not-an-address"], "127.0.0.1"),
        # IPv6, and an IPv4 client of a dual-stack listener.
        ("::1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # Not an IP at all (a test client, a Unix socket): as given.
        ("testclient", ["198.51.100.1"], "testclient"),
    ],
)
def test_forwarded_client(peer: str, header: list[str], expected: str) -> None:
    assert forwarded_client(peer, header, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_never_believed() -> None:
    assert forwarded_client("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"
