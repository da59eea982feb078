"""WebSocket plumbing shared by agent and visitor sockets.

A socket streams its recipient's Redis Stream from the last id it saw (``last_event_id`` on reconnect),
so any replica can serve any client and nothing is missed across a reconnect. On shutdown every socket
is closed with 1012 (service restart), the hint to reconnect elsewhere. Agent sockets re-check their
credentials on every heartbeat and at once on a revocation
(``switchboard_common.domain.accounts.revocation``), closing with 1008 when they no longer hold. Tokens may come
in a subprotocol or the first frame, never needing the URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import WebSocket, WebSocketDisconnect
from switchboard_common.domain.accounts.revocation import Revocation
from switchboard_common.infra import metrics
from switchboard_common.infra.cache import TextRedis
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.realtime import read_stream

CLOSE_SERVICE_RESTART = 1012
CLOSE_POLICY_VIOLATION = 1008
# Offered by browsers as ``new WebSocket(url, ["switchboard", "bearer." + token])``: the token travels in the
# Sec-WebSocket-Protocol header instead of the URL (which proxies and servers log); we answer "switchboard".
SUBPROTOCOL = "switchboard"
BEARER_SUBPROTOCOL_PREFIX = "bearer."
# How long a socket opened without a token may take to send ``{"type": "auth", "token": ...}`` first.
FIRST_FRAME_AUTH_SECONDS = 10.0

ClientMessageHandler = Callable[[dict[str, Any]], Awaitable[None]]
PrincipalT = TypeVar("PrincipalT")


class SocketRevoked(Exception):
    """The socket's credentials no longer hold: close it with 1008 and this code as the reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(eq=False)
class AgentSocket:
    """An open agent socket, so revocations can find it: ``recheck`` wakes its heartbeat at once."""

    websocket: WebSocket
    account_id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID | None
    recheck: asyncio.Event = field(default_factory=asyncio.Event)

    def concerned_by(self, revocation: Revocation) -> bool:
        if revocation.account_id != self.account_id:
            return False
        if revocation.user_id is not None and revocation.user_id != self.user_id:
            return False
        return revocation.session_id is None or revocation.session_id == self.session_id


class SocketRegistry:
    """The sockets this process holds, so shutdown can close them with a reconnect hint and revocations can
    make agent sockets re-check their credentials."""

    def __init__(self) -> None:
        self._sockets: set[WebSocket] = set()
        self._agents: set[AgentSocket] = set()
        self.closing = False

    def add(self, websocket: WebSocket) -> None:
        self._sockets.add(websocket)

    def discard(self, websocket: WebSocket) -> None:
        self._sockets.discard(websocket)

    def add_agent(self, socket: AgentSocket) -> None:
        self._agents.add(socket)

    def discard_agent(self, socket: AgentSocket) -> None:
        self._agents.discard(socket)

    async def on_revocation(self, revocation: Revocation | None) -> None:
        """Wakes the agent sockets a revocation concerns (every one for None: announcements may be lost)."""
        for socket in list(self._agents):
            if revocation is None or socket.concerned_by(revocation):
                socket.recheck.set()

    async def close_all(self) -> None:
        self.closing = True
        for websocket in list(self._sockets):
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_SERVICE_RESTART, reason="server restarting; reconnect")


async def open_socket(
    websocket: WebSocket, query_token: str | None, authenticate: Callable[[str], Awaitable[PrincipalT]]
) -> tuple[PrincipalT, str] | None:
    """Authenticates and accepts a socket; returns (principal, token), or None after refusing it.

    The bearer token comes from the ``bearer.<token>`` subprotocol, the deprecated ``?token=`` query parameter
    (both checked before the handshake completes: a bad one is refused with HTTP 403), or else the first frame
    ``{"type": "auth", "token": ...}`` within ``FIRST_FRAME_AUTH_SECONDS`` (refused with close code 1008).
    ``authenticate`` raises :class:`AppError` to refuse."""
    offered = list(websocket.scope.get("subprotocols") or [])
    subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
    token = next(
        (p[len(BEARER_SUBPROTOCOL_PREFIX) :] for p in offered if p.startswith(BEARER_SUBPROTOCOL_PREFIX)), None
    )
    token = token or query_token
    if token:
        try:
            principal = await authenticate(token)
        except AppError as exc:
            await websocket.close(code=CLOSE_POLICY_VIOLATION, reason=exc.code)
            return None
        await websocket.accept(subprotocol=subprotocol)
        return principal, token
    await websocket.accept(subprotocol=subprotocol)
    try:
        frame = json.loads(await asyncio.wait_for(websocket.receive_text(), FIRST_FRAME_AUTH_SECONDS))
    except (TimeoutError, ValueError, WebSocketDisconnect, RuntimeError):
        frame = None
    token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
    reason = "unauthorized"
    if isinstance(token, str) and token:
        try:
            return await authenticate(token), token
        except AppError as exc:
            reason = exc.code
    with contextlib.suppress(Exception):
        await websocket.close(code=CLOSE_POLICY_VIOLATION, reason=reason)
    return None


async def stream_start_id(redis: TextRedis, stream: str, last_event_id: str | None) -> str:
    """Where to start reading: after the client's last seen id, else after the newest entry now."""
    if last_event_id:
        return last_event_id
    newest = await redis.xrevrange(stream, count=1)
    return newest[0][0] if newest else "0-0"


async def serve_stream(
    websocket: WebSocket,
    *,
    redis: TextRedis,
    stream: str,
    start_id: str,
    kind: str,
    on_client_message: ClientMessageHandler,
    heartbeat: Callable[[], Awaitable[None]] | None = None,
    heartbeat_seconds: float = 20.0,
    wake: asyncio.Event | None = None,
) -> None:
    """Pumps stream entries to the socket and client frames to the handler until either side ends. The
    heartbeat runs every ``heartbeat_seconds`` and at once when ``wake`` is set; when it raises
    :class:`SocketRevoked` the socket closes with 1008."""
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
        woken = wake or asyncio.Event()
        while heartbeat is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), heartbeat_seconds)
            woken.clear()
            try:
                await heartbeat()
            except SocketRevoked as exc:
                with contextlib.suppress(Exception):
                    await websocket.close(code=CLOSE_POLICY_VIOLATION, reason=exc.code)
                return

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
