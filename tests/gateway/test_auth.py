from __future__ import annotations

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.helpers.api import create_agent, create_web_inbox, signup, unique_email, visitor_session
from tests.helpers.live import LiveServer


async def test_signup_login_and_duplicates(client: httpx.AsyncClient) -> None:
    email = unique_email()
    created = await client.post("/api/v1/signup", json={"account_name": "A", "email": email, "password": "password123"})
    assert created.status_code == 201 and set(created.json()) == {"account_id", "user_id"}
    duplicate = await client.post(
        "/api/v1/signup", json={"account_name": "B", "email": email.upper(), "password": "password123"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "email_taken"
    ok = await client.post("/api/v1/auth/login", json={"email": email, "password": "password123"})
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    wrong = await client.post("/api/v1/auth/login", json={"email": email, "password": "password124"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    nobody = await client.post("/api/v1/auth/login", json={"email": unique_email(), "password": "password123"})
    assert nobody.status_code == 401


async def test_roles_and_tokens(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    _agent_id, agent_token = await create_agent(client, tenant)
    agent_headers = {"Authorization": f"Bearer {agent_token}"}
    # An agent cannot create agents or inboxes.
    forbidden = await client.post(
        "/api/v1/agents", json={"email": unique_email(), "name": "x", "password": "password123"}, headers=agent_headers
    )
    assert forbidden.status_code == 403
    assert (
        await client.post("/api/v1/inboxes", json={"name": "x", "channel": "web"}, headers=agent_headers)
    ).status_code == 403
    # A visitor token never opens the agent API, over HTTP or WebSocket.
    visitor = await visitor_session(client, inbox["widget_token"])
    visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    assert (await client.get("/api/v1/conversations", headers=visitor_headers)).status_code in (401, 403)
    assert (await client.put("/api/v1/presence", json={"status": "online"}, headers=visitor_headers)).status_code in (
        401,
        403,
    )
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/api/v1/ws?token={visitor['visitor_token']}"):
            pass
    assert refused.value.response.status_code == 403
    # No token and a forged token are 401.
    assert (await client.get("/api/v1/conversations")).status_code == 401
    assert (await client.get("/api/v1/conversations", headers={"Authorization": "Bearer x.y.z"})).status_code == 401


async def test_other_accounts_ids_are_404(client: httpx.AsyncClient) -> None:
    first = await signup(client)
    second = await signup(client)
    inbox = await create_web_inbox(client, first)
    agent_id, _ = await create_agent(client, first)
    assert (await client.get(f"/api/v1/inboxes/{inbox['id']}", headers=second.headers)).status_code == 404
    assert (
        await client.patch(f"/api/v1/agents/{agent_id}", json={"max_conversations": 1}, headers=second.headers)
    ).status_code == 404
