"""The agent socket and presence."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.conversations import commands, routing
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.runtime import Resources

from switchboard_gateway.deps import AgentPrincipal, CurrentAgent, ResourcesDep, authenticate_agent_at_once
from switchboard_gateway.realtime.schemas import PresenceOut, PresenceUpdate
from switchboard_gateway.realtime.sockets import (
    AgentSocket,
    SocketRevoked,
    open_socket,
    serve_stream,
)
from switchboard_gateway.realtime.typing import relay_agent_typing

router = APIRouter(prefix="/api/v1", tags=["realtime"])


async def change_presence(resources: Resources, agent: AgentPrincipal, status: str) -> None:
    """The agent chose a status: it holds now and on every later connection until they choose again."""
    previous = await presence.choose_status(resources.redis, resources.keys, agent.account_id, agent.user_id, status)
    await _announce(resources, agent, previous, status)


async def _announce(
    resources: Resources, agent: AgentPrincipal, previous: str | None, status: str, *, connected: bool = False
) -> None:
    """A change of status is announced (consoles, and the account's routing writer); a new connection also
    tells the writer, so an agent whose earlier socket went silent is routable again at once."""
    if previous != status:
        await commands.announce_presence(resources, agent.account_id, agent.user_id, status)
    elif connected:
        await commands.notify(resources, agent.account_id, "presence", agent_id=agent.user_id, status=status)


async def _grace_seconds(resources: Resources, account_id: uuid.UUID) -> float:
    async with resources.sessionmaker() as session:
        return float(routing.account_routing(await session.get(Account, account_id))["grace_seconds"])


@router.put("/presence", response_model=PresenceOut)
async def put_presence(body: PresenceUpdate, agent: CurrentAgent, resources: ResourcesDep) -> PresenceOut:
    await change_presence(resources, agent, body.status)
    return PresenceOut(agent_id=agent.user_id, status=body.status)


@router.websocket("/ws")
async def agent_socket(websocket: WebSocket, token: str | None = None, last_event_id: str | None = None) -> None:
    resources: Resources = websocket.app.state.resources

    async def authenticate(candidate: str) -> AgentPrincipal:
        # One statement, no session held: a morning's worth of sockets opening at once must not run the
        # database pool dry (the handshake was shed with 503 when it did).
        return await authenticate_agent_at_once(candidate, resources, connection=websocket)

    opened = await open_socket(websocket, token, authenticate)
    if opened is None:
        return
    agent, token = opened
    registry = websocket.app.state.sockets
    registry.add(websocket)
    # Revocations (logout, password change, role change, ...) wake this socket's heartbeat at once.
    tracked = AgentSocket(websocket, agent.account_id, agent.user_id, agent.session_id)
    registry.add_agent(tracked)
    connection_id = uuid.uuid4().hex
    stream = resources.keys.agent_stream(agent.user_id)
    try:
        # Live, its grace period cancelled, and where its stream starts, in one round trip. A connection changes
        # liveness only: the agent's own choice (Away, say) survives reloads and network blips; an agent who
        # never chose is online while connected.
        previous, status, newest = await presence.open_connection(
            resources.redis,
            resources.keys,
            agent.account_id,
            agent.user_id,
            connection_id,
            stream=stream,
            newest_of_stream=not last_event_id,
        )
        start = last_event_id or newest or "0-0"
        await _announce(resources, agent, previous, status, connected=True)
        await websocket.send_text(
            json.dumps(
                {"type": "session.ready", "agent_id": str(agent.user_id), "last_event_id": start, "status": status}
            )
        )

        async def on_message(message: dict[str, Any]) -> None:
            if message.get("type") == "presence" and message.get("status") in ("online", "away", "offline"):
                await change_presence(resources, agent, message["status"])
            elif message.get("type") == "typing":
                await relay_agent_typing(resources, agent, message)

        async def beat() -> None:
            # The credentials are checked again: a socket must not outlive its login, role or allowed network.
            try:
                current = await authenticate(token)
            except AppError as exc:
                raise SocketRevoked(exc.code) from None
            if current.role != agent.role:
                raise SocketRevoked("role_changed")
            await presence.heartbeat(resources.redis, resources.keys, agent.user_id, connection_id)

        await serve_stream(
            websocket,
            redis=resources.redis,
            stream=stream,
            start_id=start,
            kind="agent",
            on_client_message=on_message,
            heartbeat=beat,
            heartbeat_seconds=websocket.app.state.settings.ws_heartbeat_seconds,
            wake=tracked.recheck,
        )
    finally:
        registry.discard(websocket)
        registry.discard_agent(tracked)
        remaining = await presence.remove_connection(resources.redis, resources.keys, agent.user_id, connection_id)
        if remaining == 0 and not registry.closing:
            # A dropped connection is not a logout: the router sets the agent offline once the grace period
            # ends without a reconnect (switchboard_router.timers.run_due_presence).
            await presence.schedule_offline(
                resources.redis,
                resources.keys,
                agent.account_id,
                agent.user_id,
                grace_seconds=await _grace_seconds(resources, agent.account_id),
            )
