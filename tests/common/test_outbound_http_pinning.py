"""The SSRF guard at delivery time: the connection goes to the checked address (no DNS rebinding), the
original Host header is kept, redirects are not followed, and ``post`` itself refuses forbidden targets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from switchboard_common.infra.outbound_http import OutboundHttp, UnsafeUrl
from switchboard_devstack import free_port

from tests.fakes.receivers import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def guarded() -> AsyncIterator[OutboundHttp]:
    http = OutboundHttp(allow_private=False, timeout=1.0)
    yield http
    await http.aclose()


@pytest.fixture
async def permissive() -> AsyncIterator[OutboundHttp]:
    http = OutboundHttp(allow_private=True, timeout=5.0)
    yield http
    await http.aclose()


def rebinding_dns(monkeypatch: pytest.MonkeyPatch, host: str, answers: list[str]) -> list[str]:
    """A name server that answers ``answers`` for ``host`` in turn (the last one forever); returns its query log.

    Other names go to the real resolver. A connection that resolved the name again would get the next answer.
    """
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    queries: list[str] = []

    async def getaddrinfo(name: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        text = name.decode() if isinstance(name, bytes) else name  # httpx (anyio) asks with IDNA bytes
        if text != host:
            return await real(name, port, *args, **kwargs)
        queries.append(text)
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 80)))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return queries


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://[::1]/hook",
        "http://[fc00::1]/hook",
        "http://2130706433/hook",  # 127.0.0.1 written as one integer
    ],
)
async def test_post_refuses_forbidden_targets(guarded: OutboundHttp, url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await guarded.post(url, content=b"{}", headers={})


async def test_allowed_private_target_keeps_the_host_name(permissive: OutboundHttp, receiver: Receiver) -> None:
    response = await permissive.post(
        f"http://localhost:{receiver.port}/hook?x=1", content=b'{"a":1}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    [call] = await receiver.wait_for(1, "/hook")
    assert call.body == b'{"a":1}'
    assert call.headers["Host"] == f"localhost:{receiver.port}"


async def test_redirects_are_not_followed(permissive: OutboundHttp, receiver: Receiver) -> None:
    receiver.script = [302]
    response = await permissive.post(f"{receiver.url}/moved", content=b"{}", headers={})
    assert response.status_code == 302
    await receiver.wait_for(1)
    assert len(receiver.received) == 1


async def test_connection_uses_the_checked_answer(
    permissive: OutboundHttp, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second answer is a documentation address: a client resolving again would never reach the receiver.
    queries = rebinding_dns(monkeypatch, "pinned.invalid", ["127.0.0.1", "192.0.2.1"])
    response = await permissive.post(f"http://pinned.invalid:{receiver.port}/hook", content=b"{}", headers={})
    assert response.status_code == 200
    [call] = await receiver.wait_for(1, "/hook")
    assert call.headers["Host"] == f"pinned.invalid:{receiver.port}"
    assert queries == ["pinned.invalid"]


async def test_dns_rebinding_never_reaches_a_private_address(
    guarded: OutboundHttp, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # First answer public (passes the check); every later answer is loopback, where the receiver listens.
    rebinding_dns(monkeypatch, "rebind.invalid", ["192.88.99.7", "127.0.0.1"])
    with pytest.raises(httpx.HTTPError):
        await guarded.post(f"http://rebind.invalid:{receiver.port}/hook", content=b"{}", headers={})
    # The next call resolves again, sees the private answer, and is refused before connecting.
    with pytest.raises(UnsafeUrl):
        await guarded.post(f"http://rebind.invalid:{receiver.port}/hook", content=b"{}", headers={})
    assert receiver.received == []


@pytest.fixture
async def misbehaving() -> AsyncIterator[str]:
    """A receiver that answers 200 with an endless body on /endless, and never answers on /silent."""
    stop = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        chunk = b"x" * 65536
        with contextlib.suppress(ConnectionError):
            while not stop.is_set():
                await response.write(chunk)
        return response

    async def silent(_request: web.Request) -> web.Response:
        await stop.wait()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/endless", endless)
    app.router.add_post("/silent", silent)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    stop.set()
    await runner.cleanup()


async def test_the_answer_body_is_never_read(misbehaving: str) -> None:
    http = OutboundHttp(allow_private=True, timeout=5.0)
    try:
        response = await http.post(f"{misbehaving}/endless", content=b"{}", headers={})
    finally:
        await http.aclose()
    assert response.status_code == 200


async def test_a_receiver_that_never_answers_times_out(misbehaving: str) -> None:
    http = OutboundHttp(allow_private=True, timeout=0.5)
    try:
        with pytest.raises(httpx.TimeoutException):
            await http.post(f"{misbehaving}/silent", content=b"{}", headers={})
    finally:
        await http.aclose()
