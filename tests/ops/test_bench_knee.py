"""The fixed-rate sweep (bench.knee, bench.fixedrate): it measures a warmed-up stack (every process ready, a
probe's round trip and an unmeasured warm-up before the first rate) and leaves no data directory behind.

The client is driven against a small stand-in of the visitor and agent endpoints (an aiohttp app): what is
checked is the client's order of work, not the services."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bench import knee
from bench.fixedrate import drive, until_ready


class Endpoints:
    """/readyz (503 for the first ``not_ready`` calls), the widget POST and the agent's socket, which shows each
    posted text as a live message."""

    def __init__(self, not_ready: int) -> None:
        self.not_ready = not_ready
        self.readyz_calls: list[tuple[float, int]] = []
        self.posts: list[tuple[float, str]] = []
        self.sockets: list[web.WebSocketResponse] = []

    async def readyz(self, _request: web.Request) -> web.Response:
        status = 503 if len(self.readyz_calls) < self.not_ready else 200
        self.readyz_calls.append((time.perf_counter(), status))
        return web.json_response({}, status=status)

    async def post(self, request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        self.posts.append((time.perf_counter(), text))
        frame = {"type": "message.created", "message": {"direction": "inbound", "text": text}}
        for socket in self.sockets:
            await socket.send_str(json.dumps(frame))
        return web.json_response({"message_id": "m", "conversation_id": "c"}, status=202)

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_str(json.dumps({"type": "session.ready", "last_event_id": "0"}))
        self.sockets.append(socket)
        async for _message in socket:
            pass
        return socket


@pytest.fixture
async def endpoints() -> AsyncIterator[tuple[Endpoints, str]]:
    state = Endpoints(not_ready=3)
    app = web.Application()
    app.router.add_get("/readyz", state.readyz)
    app.router.add_post("/api/v1/widget/messages", state.post)
    app.router.add_get("/api/v1/ws", state.socket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # started: it has sockets
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        for socket in state.sockets:
            await socket.close()
        await runner.cleanup()


def plan(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "run": "t1",
        "url": url,
        "agent_token": "agent",
        "visitor_tokens": ["v1", "v2"],
        "rates": [20.0],
        "duration": 0.5,
        "settle": 1.0,
        "ready_urls": [url],
        **extra,
    }


async def test_nothing_is_measured_before_every_process_is_ready_and_warmed_up(
    endpoints: tuple[Endpoints, str],
) -> None:
    state, url = endpoints
    results = await drive(plan(url, warmup_seconds=0.5))
    ready_at = next(at for at, status in state.readyz_calls if status == 200)
    assert [status for _, status in state.readyz_calls] == [503, 503, 503, 200]
    assert state.posts[0][0] > ready_at, "a message went out before every process was ready"
    assert state.posts[0][1] == "fr t1 probe 0", "the probe's round trip comes first"
    warm = [at for at, text in state.posts if text.startswith("fr t1 warmup ")]
    measured = [at for at, text in state.posts if text.startswith("fr t1 0 ")]
    assert len(warm) == 10 and len(measured) == 10
    assert max(warm) < min(measured), "the warm-up ran before the first measured rate"
    assert results["warmup"]["delivered"] == 10 and results["warmup"]["probe_ms"] > 0
    assert results["20.0"]["lost"] == 0 and results["20.0"]["ack_p99_ms"] > 0


async def test_until_ready_gives_up_on_a_process_that_never_gets_ready(endpoints: tuple[Endpoints, str]) -> None:
    state, url = endpoints
    state.not_ready = 10**6
    with pytest.raises(TimeoutError, match="not ready"):
        await until_ready_within(url, 0.5)


async def until_ready_within(url: str, timeout: float) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        return await until_ready(session, [url], timeout=timeout)


STARTED_IN: list[Path] = []


class FailingLayout(knee.Layout):
    """A layout that fails to start after writing into its work directory, as a server would."""

    name = "failing"

    def __init__(self, work: Path) -> None:
        self.work = work
        STARTED_IN.append(work)

    async def start(self) -> None:
        (self.work / "servers").mkdir()
        (self.work / "servers" / "pgdata").write_bytes(b"x" * 1024)
        raise RuntimeError("gateway exited")


async def test_a_layout_run_removes_its_work_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(knee.LAYOUTS, "failing", FailingLayout)
    with pytest.raises(RuntimeError, match="gateway exited"):
        await knee.run_layout("failing", knee.SweepConfig())
    (work,) = STARTED_IN
    assert work.name.startswith("switchboard-knee-")
    assert not work.exists()
