"""Pass-through inboxes deliver content live but never store it."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.privacy.consent import is_pass_through, pass_through_sql
from switchboard_devstack.servers import StackUrls

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


async def test_the_rule_reads_the_same_in_python_and_sql(stack_urls: StackUrls) -> None:
    # The timeline decides in SQL (one statement per message), agent replies and account webhooks in Python:
    # both come from switchboard_common.domain.privacy.consent and must agree on every stored form.
    engine = create_async_engine(stack_urls.database_url)
    try:
        async with engine.connect() as conn:
            for settings in ({}, {"pass_through": True}, {"pass_through": False}, {"pass_through": None}, {"x": 1}):
                in_sql = await conn.scalar(
                    text(f"SELECT {pass_through_sql('CAST(:settings AS jsonb)')}"),
                    {"settings": json.dumps(settings)},
                )
                assert in_sql is is_pass_through(SimpleNamespace(settings=settings)), settings
    finally:
        await engine.dispose()
