"""The per-account IP allowlist, behind a trusted proxy (X-Forwarded-For believed only from 127.0.0.1)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from switchboard_devstack.servers import StackUrls
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.helpers.api import create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server


@pytest.fixture(scope="module")
async def proxied(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls, TRUSTED_PROXIES="127.0.0.1/32") as live:
        yield live


@pytest.fixture
async def http(proxied: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as client:
        yield client


def _from(address: str, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Forwarded-For": address}


async def test_allowlist_admits_ipv4_and_ipv6_networks_only(http: httpx.AsyncClient) -> None:
    tenant = await signup(http)
    put = await http.put(
        "/api/v1/account/ip-allowlist",
        json={"cidrs": ["203.0.113.0/24", "2001:db8:abcd::/48"]},
        headers=_from("203.0.113.7", tenant.headers),
    )
    assert put.status_code == 200, put.text
    assert (await http.get("/api/v1/me", headers=_from("203.0.113.99", tenant.headers))).status_code == 200
    assert (await http.get("/api/v1/me", headers=_from("2001:db8:abcd:12::1", tenant.headers))).status_code == 200
    for outside in ("198.51.100.1", "2001:db8:ffff::1"):
        denied = await http.get("/api/v1/me", headers=_from(outside, tenant.headers))
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "ip_not_allowed"
    # Without a forwarded address the peer (127.0.0.1, the proxy) is the client: not in the list.
    assert (await http.get("/api/v1/me", headers=tenant.headers)).status_code == 403
    # A client cannot smuggle an allowed address in front of its real one: the rightmost untrusted hop counts.
    spoofed = _from("203.0.113.5, 198.51.100.1", tenant.headers)
    assert (await http.get("/api/v1/me", headers=spoofed)).status_code == 403

    # Agent sockets are restricted too.
    token = tenant.token
    with pytest.raises(InvalidStatus):
        async with connect(
            f"{http.base_url}".replace("http", "ws") + f"/api/v1/ws?token={token}",
            additional_headers={"X-Forwarded-For": "198.51.100.1"},
        ) as socket:
            await socket.recv()

    # The widget is not restricted.
    inbox_headers = _from("203.0.113.7", tenant.headers)
    await http.put("/api/v1/account/ip-allowlist", json={"cidrs": []}, headers=inbox_headers)
    inbox = await create_web_inbox(http, tenant)
    await http.put("/api/v1/account/ip-allowlist", json={"cidrs": ["203.0.113.0/24"]}, headers=inbox_headers)
    assert (await visitor_session(http, inbox["widget_token"]))["visitor_token"]

    # An empty list lifts the restriction; the change is audited without addresses.
    assert (
        await http.put("/api/v1/account/ip-allowlist", json={"cidrs": []}, headers=inbox_headers)
    ).status_code == 200
    assert (await http.get("/api/v1/me", headers=_from("198.51.100.1", tenant.headers))).status_code == 200
    events = (await http.get("/api/v1/account/security-events", headers=tenant.headers)).json()
    changes = [e for e in events if e["kind"] == "ip_allowlist_changed"]
    assert len(changes) == 4 and all("203.0.113.0/24" not in str(e["details"]) for e in changes)
    assert changes[-1]["ip_prefix"] == "203.0.113.0/24"


async def test_allowlist_rejects_malformed_networks_and_agents(http: httpx.AsyncClient) -> None:
    tenant = await signup(http)
    bad = await http.put("/api/v1/account/ip-allowlist", json={"cidrs": ["10.0.0.0/33"]}, headers=tenant.headers)
    assert bad.status_code == 422 and "error" in bad.json()
