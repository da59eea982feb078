"""Issue 2's path end to end over real HTTP and WebSocket: a visitor writes, the router assigns an online
agent, the agent sees it live and replies, the visitor sees the reply."""

from __future__ import annotations

import httpx
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import Socket, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer
from tests.helpers.redis_keys import unregistered_keys


async def test_visitor_to_agent_and_back(client: httpx.AsyncClient, server: LiveServer) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    assert inbox["channel"] == "web" and inbox["widget_token"]
    agent_id, agent_token = await create_agent(client, tenant)

    agent_socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={agent_token}")
    await agent_socket.wait_for(lambda f: f["type"] == "session.ready")

    visitor = await visitor_session(client, inbox["widget_token"], name="Vera")
    visitor_socket = await Socket.open(f"{server.ws_url}/api/v1/widget/ws?token={visitor['visitor_token']}")
    await visitor_socket.wait_for(lambda f: f["type"] == "session.ready")
    visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}

    sent = await client.post(
        "/api/v1/widget/messages", json={"text": "Hello, is anyone there?"}, headers=visitor_headers
    )
    assert sent.status_code == 202, sent.text
    conversation_id = sent.json()["conversation_id"]

    assigned = await agent_socket.wait_for(
        lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id
    )
    assert assigned["agent_id"] == agent_id
    assert await agent_socket.texts_for(conversation_id, 1) == ["Hello, is anyone there?"]

    # A second message in the assigned conversation arrives as message.created.
    await client.post("/api/v1/widget/messages", json={"text": "My order is late"}, headers=visitor_headers)
    live = await agent_socket.wait_for(
        lambda f: f["type"] == "message.created" and f["message"]["text"] == "My order is late"
    )
    assert live["conversation_id"] == conversation_id
    assert await agent_socket.texts_for(conversation_id, 2) == ["Hello, is anyone there?", "My order is late"]

    listed = await client.get(
        "/api/v1/conversations",
        params={"assignee": "me", "status": "open"},
        headers={"Authorization": f"Bearer {agent_token}"},
    )
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == [conversation_id]
    assert listed.json()[0]["assignee_id"] == agent_id

    reply = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Hi Vera!"},
        headers={"Authorization": f"Bearer {agent_token}"},
    )
    assert reply.status_code == 201, reply.text
    delivered = await visitor_socket.wait_for(lambda f: f["type"] == "message.created")
    assert delivered["message"]["text"] == "Hi Vera!"
    assert delivered["message"]["sender_type"] == "agent"

    status = await agent_socket.wait_for(
        lambda f: f["type"] == "message.delivery_updated" and f["message_id"] == reply.json()["id"]
    )
    assert status["status"] == "sent"

    history = await client.get(
        f"/api/v1/conversations/{conversation_id}/messages", headers={"Authorization": f"Bearer {agent_token}"}
    )
    assert [m["text"] for m in history.json()] == ["Hello, is anyone there?", "My order is late", "Hi Vera!"]

    await agent_socket.close()
    await visitor_socket.close()


async def test_client_message_id_is_idempotent(client: httpx.AsyncClient) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"])
    headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
    first = await client.post(
        "/api/v1/widget/messages", json={"text": "once", "client_message_id": "c-1"}, headers=headers
    )
    again = await client.post(
        "/api/v1/widget/messages", json={"text": "once", "client_message_id": "c-1"}, headers=headers
    )
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    other = await client.post(
        "/api/v1/widget/messages", json={"text": "twice", "client_message_id": "c-2"}, headers=headers
    )
    assert other.json()["message_id"] != first.json()["message_id"]
    assert other.json()["conversation_id"] == first.json()["conversation_id"]


async def test_queued_conversation_is_assigned_when_an_agent_comes_online(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    agent_id, agent_token = await create_agent(client, tenant)
    visitor = await visitor_session(client, inbox["widget_token"])
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "anyone?"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    conversation_id = sent.json()["conversation_id"]

    # Nobody online: the conversation waits unassigned.
    for _ in range(100):
        queued = await client.get("/api/v1/conversations", params={"status": "queued"}, headers=tenant.headers)
        if any(c["id"] == conversation_id for c in queued.json()):
            break
    agent_socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={agent_token}")
    assigned = await agent_socket.wait_for(
        lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id
    )
    assert assigned["agent_id"] == agent_id
    await agent_socket.close()


async def test_an_idle_agent_socket_stays_open(client: httpx.AsyncClient, server: LiveServer) -> None:
    """An agent with nothing to see for longer than a Redis read timeout keeps the same socket."""
    import asyncio

    from switchboard_common.infra.realtime import DEFAULT_BLOCK_MS

    tenant = await signup(client)
    inbox = await create_web_inbox(client, tenant)
    _, agent_token = await create_agent(client, tenant)
    agent_socket = await Socket.open(f"{server.ws_url}/api/v1/ws?token={agent_token}")
    await agent_socket.wait_for(lambda f: f["type"] == "session.ready")
    await asyncio.sleep(DEFAULT_BLOCK_MS / 1000 + 2)  # a whole blocking read with nothing in it, and more
    visitor = await visitor_session(client, inbox["widget_token"])
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "still listening?"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    assert sent.status_code == 202, sent.text
    assert await agent_socket.texts_for(sent.json()["conversation_id"], 1) == ["still listening?"]
    assert [f["type"] for f in agent_socket.frames].count("session.ready") == 1
    await agent_socket.close()


async def test_every_key_left_in_redis_is_registered(server: LiveServer, stack_urls: StackUrls) -> None:
    """What this module's run wrote to Redis was named by the key registry (tests/helpers/redis_keys.py)."""
    assert await unregistered_keys(stack_urls.redis_url, server.env["REDIS_NAMESPACE"]) == []
