"""The client's address, believing X-Forwarded-For only from proxies the deployment trusts (TRUSTED_PROXIES)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.requests import HTTPConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=64)
def parse_networks(cidrs: str | tuple[str, ...]) -> tuple[IPNetwork, ...]:
    items = cidrs.split(",") if isinstance(cidrs, str) else cidrs
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in items if c.strip())


def parse_address(value: str | None) -> IPAddress | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket is still that IPv4 client.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def in_networks(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address(connection: HTTPConnection, trusted_proxies: str) -> IPAddress | None:
    """The peer, or -- when the peer is a trusted proxy -- the rightmost X-Forwarded-For hop not trusted.

    Walking from the right stops at the first address no trusted proxy vouches for: a client cannot spoof
    its address by sending its own X-Forwarded-For, because the proxy appends the real peer to it.
    """
    peer = parse_address(connection.client.host if connection.client else None)
    trusted = parse_networks(trusted_proxies)
    if peer is None or not trusted or not in_networks(peer, trusted):
        return peer
    hops = [h for header in connection.headers.getlist("x-forwarded-for") for h in header.split(",")]
    current = peer
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return current
        current = address
        if not in_networks(address, trusted):
            return address
    return current


def address_prefix(address: IPAddress | None) -> str | None:
    """A /24 (IPv4) or /48 (IPv6) prefix: what the audit log keeps instead of a full address."""
    if address is None:
        return None
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))
