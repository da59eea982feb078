"""WebSocket plumbing shared by agent and visitor sockets.

A socket streams its recipient's Redis Stream from the last id it saw (``last_event_id`` on reconnect),
so any replica can serve any client and nothing is missed across a reconnect. On shutdown every socket
is closed with 1012 (service restart), the hint to reconnect elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from redis.asyncio import Redis
from switchboard_common import metrics
from switchboard_common.realtime import read_stream

CLOSE_SERVICE_RESTART = 1012
CLOSE_POLICY_VIOLATION = 1008

ClientMessageHandler = Callable[[dict[str, Any]], Awaitable[None]]


class SocketRegistry:
    """The sockets this process holds, so shutdown can close them with a reconnect hint."""

    def __init__(self) -> None:
        self._sockets: set[WebSocket] = set()
        self.closing = False

    def add(self, websocket: WebSocket) -> None:
        self._sockets.add(websocket)

    def discard(self, websocket: WebSocket) -> None:
        self._sockets.discard(websocket)

    async def close_all(self) -> None:
        self.closing = True
        for websocket in list(self._sockets):
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_SERVICE_RESTART, reason="server restarting; reconnect")


async def stream_start_id(redis: Redis, stream: str, last_event_id: str | None) -> str:
    """Where to start reading: after the client's last seen id, else after the newest entry now."""
    if last_event_id:
        return last_event_id
    newest = await redis.xrevrange(stream, count=1)
    return newest[0][0] if newest else "0-0"


async def serve_stream(
    websocket: WebSocket,
    *,
    redis: Redis,
    stream: str,
    start_id: str,
    kind: str,
    on_client_message: ClientMessageHandler,
    heartbeat: Callable[[], Awaitable[None]] | None = None,
    heartbeat_seconds: float = 20.0,
) -> None:
    """Pumps stream entries to the socket and client frames to the handler until either side ends."""
    metrics.WEBSOCKETS.labels(kind).inc()

    async def pump() -> None:
        last_id = start_id
        while True:
            for entry_id, message in await read_stream(redis, stream, last_id):
                await websocket.send_text(json.dumps({**message, "id": entry_id}, default=str))
                last_id = entry_id

    async def receive() -> None:
        while True:
            raw = await websocket.receive_text()
            try:
                message = json.loads(raw)
            except ValueError:
                await websocket.send_json(
                    {"type": "error", "error": {"code": "malformed_json", "message": "frame is not JSON"}}
                )
                continue
            if not isinstance(message, dict):
                continue
            if message.get("type") == "ping":
                await websocket.send_json({"type": "pong"})
                continue
            await on_client_message(message)

    async def beat() -> None:
        if heartbeat is None:
            # No heartbeat (visitor sockets): this task must not end, or the wait below would end the socket.
            await asyncio.Event().wait()
        while heartbeat is not None:
            await asyncio.sleep(heartbeat_seconds)
            await heartbeat()

    tasks = [asyncio.create_task(pump()), asyncio.create_task(receive()), asyncio.create_task(beat())]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                raise exc
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        metrics.WEBSOCKETS.labels(kind).dec()
