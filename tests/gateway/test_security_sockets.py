"""Agent sockets do not outlive their credentials: logout, logout-all, password change, session revocation,
refresh-token reuse, agent deletion, role loss and an IP-allowlist change close them with 1008 at once (the
heartbeat is an hour here, so only the revocation announcement can do it), and every heartbeat re-checks.
Tokens may travel in a subprotocol or the first frame instead of the URL; frames are capped in size."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.infra.logging import configure_logging
from switchboard_common.infra.service import WS_MAX_FRAME_BYTES
from switchboard_devstack.servers import StackUrls
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.helpers.api import Tenant, create_web_inbox, login, signup, unique_email, visitor_session
from tests.helpers.live import LiveServer, live_server

PASSWORD = "agent password 1"
# Bounded waits, not timing assertions: the heartbeat is an hour, so without an announcement nothing closes.
CLOSE_WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls, WS_HEARTBEAT_SECONDS="3600", TRUSTED_PROXIES="127.0.0.0/8") as live:
        yield live


@pytest.fixture
async def client(system: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as http:
        yield http


async def _open(system: LiveServer, token: str) -> ClientConnection:
    socket = await connect(f"{system.ws_url}/api/v1/ws", subprotocols=["switchboard", f"bearer.{token}"])  # type: ignore[list-item]
    ready = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert ready["type"] == "session.ready", ready
    return socket


async def _closed_with(socket: ClientConnection) -> tuple[int | None, str | None]:
    """Reads until the server closes; returns (code, reason)."""
    try:
        async with asyncio.timeout(CLOSE_WAIT_SECONDS):
            while True:
                await socket.recv()
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, None)
    except TimeoutError:
        await socket.close()
        return None, "still open"


async def _agent(client: httpx.AsyncClient, tenant: Tenant, role: str = "agent") -> tuple[str, str, str]:
    """(agent id, e-mail, access token)."""
    email = unique_email(role)
    made = await client.post(
        "/api/v1/agents",
        json={"email": email, "name": role, "password": PASSWORD, "role": role},
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], email, await login(client, email, PASSWORD)


async def _pong(socket: ClientConnection) -> None:
    """Pings and waits for the pong (other frames, such as presence changes, may come first)."""
    await socket.send(json.dumps({"type": "ping"}))
    async with asyncio.timeout(CLOSE_WAIT_SECONDS):
        while json.loads(await socket.recv()).get("type") != "pong":
            pass


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


Revoke = Callable[[httpx.AsyncClient, Tenant, str, str, str], Awaitable[None]]


async def _logout(client: httpx.AsyncClient, _t: Tenant, _id: str, _email: str, token: str) -> None:
    assert (await client.post("/api/v1/auth/logout", headers=bearer(token))).status_code == 204


async def _logout_all(client: httpx.AsyncClient, _t: Tenant, _id: str, email: str, _token: str) -> None:
    other = await login(client, email, PASSWORD)  # from another login: every session ends
    assert (await client.post("/api/v1/auth/logout-all", headers=bearer(other))).status_code == 204


async def _password(client: httpx.AsyncClient, _t: Tenant, _id: str, _email: str, token: str) -> None:
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "another long password"},
        headers=bearer(token),
    )
    assert changed.status_code == 204, changed.text


async def _revoke_session(client: httpx.AsyncClient, _t: Tenant, _id: str, email: str, token: str) -> None:
    other = await login(client, email, PASSWORD)
    listed = (await client.get("/api/v1/auth/sessions", headers=bearer(other))).json()
    target = next(s["id"] for s in listed if not s["current"])
    assert sum(1 for s in listed if s["current"]) == 1
    assert (await client.delete(f"/api/v1/auth/sessions/{target}", headers=bearer(other))).status_code == 204


async def _delete_agent(client: httpx.AsyncClient, tenant: Tenant, agent_id: str, _email: str, _token: str) -> None:
    assert (await client.delete(f"/api/v1/privacy/agents/{agent_id}", headers=tenant.headers)).status_code == 200


async def _demote(client: httpx.AsyncClient, tenant: Tenant, agent_id: str, _email: str, _token: str) -> None:
    demoted = await client.patch(f"/api/v1/agents/{agent_id}", json={"role": "agent"}, headers=tenant.headers)
    assert demoted.status_code == 200, demoted.text


async def _allowlist(client: httpx.AsyncClient, tenant: Tenant, _id: str, _email: str, _token: str) -> None:
    # The owner keeps access through a forwarded address; the agent's socket came from 127.0.0.1.
    put = await client.put(
        "/api/v1/account/ip-allowlist",
        json={"cidrs": ["198.51.100.0/24"]},
        headers={**tenant.headers, "X-Forwarded-For": "198.51.100.7"},
    )
    assert put.status_code == 200, put.text


@pytest.mark.parametrize(
    ("revoke", "reason"),
    [
        (_logout, "token_revoked"),
        (_logout_all, "token_revoked"),
        (_password, "token_revoked"),
        (_revoke_session, "token_revoked"),
        (_delete_agent, "unauthorized"),
        (_demote, "role_changed"),
        (_allowlist, "ip_not_allowed"),
    ],
    ids=["logout", "logout_all", "password_change", "session_revoked", "agent_deleted", "role_lost", "allowlist"],
)
async def test_revocations_close_agent_sockets_at_once(
    system: LiveServer, client: httpx.AsyncClient, revoke: Revoke, reason: str
) -> None:
    tenant = await signup(client)
    agent_id, email, token = await _agent(client, tenant, role="admin")
    socket = await _open(system, token)
    bystander = await _open(system, (await signup(client)).token)  # another account's socket is not concerned
    await revoke(client, tenant, agent_id, email, token)
    assert await _closed_with(socket) == (1008, reason)
    await _pong(bystander)
    await bystander.close()


async def test_a_reused_refresh_token_closes_the_sessions_sockets(
    system: LiveServer, client: httpx.AsyncClient
) -> None:
    tenant = await signup(client)
    _agent_id, email, _token = await _agent(client, tenant)
    stolen = (await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})).json()
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    socket = await _open(system, rotated.json()["access_token"])
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert replay.status_code == 401
    assert await _closed_with(socket) == (1008, "token_revoked")


async def test_every_heartbeat_rechecks_the_credentials(stack_urls: StackUrls) -> None:
    """A revocation nobody announced (here: written straight into the database) is caught by the heartbeat."""
    async with (
        live_server(stack_urls, WS_HEARTBEAT_SECONDS="0.5") as live,
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
    ):
        tenant = await signup(http)
        socket = await _open(live, tenant.token)
        await _pong(socket)
        engine = create_async_engine(live.env["DATABASE_URL"])
        async with engine.begin() as connection:
            await connection.execute(
                cross_tenant(text("UPDATE auth_sessions SET revoked_at = now() WHERE user_id = :u")),
                {"u": uuid.UUID(tenant.owner_id)},
            )
        await engine.dispose()
        assert await _closed_with(socket) == (1008, "token_revoked")


async def test_a_handshake_checks_the_credentials_in_one_statement_outside_a_transaction(
    system: LiveServer, client: httpx.AsyncClient
) -> None:
    """Hundreds of agents opening sockets at once shed handshakes with 503 when each held a pooled session for
    three reads (user, login, account) plus BEGIN and ROLLBACK: one autocommit statement checks them all."""
    tenant = await signup(client)
    _agent_id, _email, token = await _agent(client, tenant)
    engine = system.resources("gateway").engine.sync_engine
    credential_reads: list[tuple[str, object]] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if re.search(r"(?i)\bFROM\s+(users|auth_sessions|accounts|user_totp)\b", statement):
            credential_reads.append((statement, context.execution_options.get("isolation_level")))

    event.listen(engine, "before_cursor_execute", record)
    try:
        socket = await _open(system, token)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    await socket.close()
    assert len(credential_reads) == 1, [" ".join(s.split())[:120] for s, _i in credential_reads]
    assert credential_reads[0][1] == "AUTOCOMMIT"


async def test_tokens_travel_in_a_subprotocol_or_the_first_frame(system: LiveServer, client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"])
    # Subprotocol: the server answers "switchboard", the token never appears in the URL.
    async with connect(
        f"{system.ws_url}/api/v1/widget/ws",
        subprotocols=["switchboard", f"bearer.{visitor['visitor_token']}"],  # type: ignore[list-item]
    ) as socket:
        assert socket.subprotocol == "switchboard"
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "session.ready"
    # First frame, for agents and visitors.
    for path, token in (("/api/v1/ws", tenant.token), ("/api/v1/widget/ws", visitor["visitor_token"])):
        async with connect(f"{system.ws_url}{path}") as socket:
            await socket.send(json.dumps({"type": "auth", "token": token}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "session.ready"
    # A wrong token in the first frame, or a first frame without one, closes with 1008.
    for frame in ({"type": "auth", "token": "not-a-token"}, {"type": "ping"}):
        async with connect(f"{system.ws_url}/api/v1/ws") as socket:
            await socket.send(json.dumps(frame))
            code, _reason = await _closed_with(socket)
            assert code == 1008, frame
    # A bad token in the subprotocol is refused before the handshake completes, as in the URL.
    with pytest.raises(InvalidStatus):
        await connect(f"{system.ws_url}/api/v1/ws", subprotocols=["switchboard", "bearer.forged"])  # type: ignore[list-item]


async def test_frames_larger_than_a_message_needs_are_refused(system: LiveServer, client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    socket = await _open(system, tenant.token)
    await socket.send(json.dumps({"type": "typing", "padding": "x" * (WS_MAX_FRAME_BYTES + 1)}))
    code, _reason = await _closed_with(socket)
    assert code == 1009  # message too big
    assert WS_MAX_FRAME_BYTES <= 256 * 1024
    # A frame of the largest message the API takes (10,000 characters) still fits.
    socket = await _open(system, tenant.token)
    await socket.send(json.dumps({"type": "typing", "padding": "é" * 10_000}))
    await _pong(socket)
    await socket.close()


def test_library_log_lines_never_carry_query_strings(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("INFO", json_output=True, service="test")
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        # What uvicorn writes for a WebSocket handshake and an HTTP request.
        logging.getLogger("uvicorn.error").info(
            '%s - "WebSocket %s" %d', "127.0.0.1:5000", "/api/v1/widget/ws?token=eyJsecret.value.x", 403
        )
        logging.getLogger("uvicorn.access").error(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/api/v1/x?email=a@example.com", "1.1", 200
        )
    logged = caplog.text
    assert "/api/v1/widget/ws?[query]" in logged and "/api/v1/x?[query]" in logged
    assert "eyJsecret" not in logged and "a@example.com" not in logged
