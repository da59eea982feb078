"""Pass-through inboxes deliver content live but never store it."""

from __future__ import annotations

import httpx

from tests.helpers.api import Socket, create_agent, signup, visitor_session
from tests.helpers.live import LiveServer


async def test_content_is_delivered_not_stored(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = (
        await client.post(
            "/api/v1/inboxes",
            headers=tenant.headers,
            json={"name": "Relay", "channel": "web", "settings": {"pass_through": True}},
        )
    ).json()
    _, agent_token = await create_agent(client, tenant)
    agent = await Socket.open(f"{server.ws_url}/api/v1/ws?token={agent_token}")
    visitor = await visitor_session(client, inbox["widget_token"])
    visitor_socket = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
    await visitor_socket.wait_for(lambda f: f["type"] == "session.ready")
    await client.post(
        "/api/v1/widget/messages",
        json={"text": "secret-ish words"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
    assert await agent.texts_for(assigned["conversation_id"], 1) == ["secret-ish words"]
    headers = {"Authorization": f"Bearer {agent_token}"}
    await client.post(
        "/api/v1/widget/messages",
        json={"text": "second words"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    assert await agent.texts_for(assigned["conversation_id"], 2) == ["secret-ish words", "second words"]
    await client.post(
        f"/api/v1/conversations/{assigned['conversation_id']}/messages", json={"text": "reply words"}, headers=headers
    )
    delivered = await visitor_socket.wait_for(lambda f: f["type"] == "message.created")
    assert delivered["message"]["text"] == "reply words"
    stored = (await client.get(f"/api/v1/conversations/{assigned['conversation_id']}/messages", headers=headers)).json()
    assert len(stored) == 3 and all(m["text"] is None for m in stored)
    await agent.close()
    await visitor_socket.close()
