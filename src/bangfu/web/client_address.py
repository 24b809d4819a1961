"""The address a request came from, for sign-in limits and the audit log.

The TCP peer, unless the peer is a reverse proxy named in BANGFU_TRUSTED_PROXIES: then the right-most
X-Forwarded-For entry that is not itself a trusted proxy. Entries to its left were written by whoever
sent the request and prove nothing; believing them (or the header from anyone else) would let one
client pose as any address, and so put any address over its sign-in limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from bangfu.settings import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parsed(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d; it is the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address in network for network in proxies)


def forwarded_client(peer: str, forwarded_for: Iterable[str], proxies: tuple[Network, ...]) -> str:
    """The client's address given the TCP ``peer``, the X-Forwarded-For header values and the trusted proxies."""
    peer_address = _parsed(peer)
    if peer_address is None or not _trusted(peer_address, proxies):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = _parsed(hop)
        if address is None:
            return str(peer_address)  # garbage the proxy passed on: nothing behind it can be believed
        if not _trusted(address, proxies):
            return str(address)
    # Every hop is one of ours (or there is no header): the left-most is where the request began.
    first = _parsed(hops[0]) if hops else None
    return str(first or peer_address)
