"""The routing bench's own tools (bench.routing): the profile table it writes beside each py-spy recording,
the parts a run can be limited to, and the client session of the public drain's agent sockets."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bench.routing import PHASES, main, socket_session, top_functions


def test_the_profile_table_counts_own_and_total_samples_per_function() -> None:
    folded = "\n".join(
        [
            "main (m.py:1);loop (m.py:2);decide (r.py:10) 30",
            "main (m.py:1);loop (m.py:2);decide (r.py:10);validate (p.py:5) 50",
            "main (m.py:1);loop (m.py:2);publish (b.py:7) 20",
            "not a sample line",
        ]
    )
    table = top_functions(folded)
    lines = table.splitlines()
    assert lines[0].startswith("100 samples")
    own = lines[lines.index("own % | total % | function") + 1 :]
    assert own[0] == " 50.0 |  50.0 | validate (p.py:5)"
    assert own[1] == " 30.0 |  80.0 | decide (r.py:10)"
    assert own[2] == " 20.0 |  20.0 | publish (b.py:7)"
    inclusive = lines[lines.index("total % | function (inclusive, busiest first)") + 1 :]
    assert inclusive[:2] == ["100.0 | main (m.py:1)", "100.0 | loop (m.py:2)"]


def test_a_run_names_only_known_parts() -> None:
    assert "public" in PHASES and "decisions" in PHASES
    with pytest.raises(SystemExit):
        main(["--only", "decisions,nonsense"])


async def test_the_public_drain_holds_more_than_a_hundred_agent_sockets_open_at_once() -> None:
    # The public drain keeps every agent's socket open until all conversations are placed: a client limited to
    # 100 connections (aiohttp's default) never opens the 101st, and the 2,000 / 200 drain timed out.
    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/ws", socket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # the free port it took
    try:
        async with socket_session(10.0) as http:
            sockets = await asyncio.wait_for(
                asyncio.gather(*(http.ws_connect(f"http://127.0.0.1:{port}/ws") for _ in range(120))), 5.0
            )
            assert len(sockets) == 120
            await asyncio.gather(*(s.close() for s in sockets))
    finally:
        await runner.cleanup()
