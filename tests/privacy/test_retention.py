"""Retention leaves what erasure would leave for the data it expires: a closed conversation's texts are
unreadable in every Kafka record afterwards (they are sealed with the conversation's key, which the sweep
destroys) and gone from the agents' and the contact's Redis streams; an inactive contact's name and e-mail
(sealed with their profile key) are unreadable too; the messages policy trims agents' streams to its cutoff."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from switchboard_common.domain.events import utcnow
from switchboard_common.infra.signing import signed_headers
from switchboard_devstack.servers import StackUrls
from switchboard_privacy.retention.sweep import sweep as retention_sweep

from tests.helpers.api import Socket, create_agent, create_web_inbox, eventually, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.scan import scan_kafka, scan_redis


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls, SUBJECT_KEY_CACHE_SECONDS="0") as live:
        yield live


def privacy(system: LiveServer) -> Any:
    return system.resources("privacy")


async def test_expired_conversations_and_contacts_leave_what_erasure_leaves(
    system: LiveServer, stack_urls: StackUrls
) -> None:
    tag = uuid.uuid4().hex[:12]
    closed_text, reply_text, kept_text = f"closed secret {tag}", f"closed reply {tag}", f"kept words {tag}"
    name, email = f"Inactive{tag}", f"inactive{tag}@example.org"
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        _, agent_token = await create_agent(client, tenant)
        agent_headers = {"Authorization": f"Bearer {agent_token}"}
        agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={agent_token}")
        web = await create_web_inbox(client, tenant)

        visitor = await visitor_session(client, web["widget_token"])
        visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}

        async def chat(text_body: str, *, not_in: str = "") -> str:
            sent = await client.post("/api/v1/widget/messages", json={"text": text_body}, headers=visitor_headers)
            assert sent.status_code == 202, sent.text
            assigned = await agent.wait_for(
                lambda f: (
                    f["type"] == "conversation.assigned"
                    and f["conversation"]["contact_id"] == visitor["contact_id"]
                    and f["conversation"]["id"] != not_in
                )
            )
            return str(assigned["conversation"]["id"])

        closed = await chat(closed_text)
        reply = await client.post(
            f"/api/v1/conversations/{closed}/messages", json={"text": reply_text}, headers=agent_headers
        )
        assert reply.status_code == 201, reply.text
        resolved = await client.post(f"/api/v1/conversations/{closed}/resolve", headers=agent_headers)
        assert resolved.status_code == 200, resolved.text
        # The same visitor writes again: a new conversation, open, so the contact stays (not inactive) while
        # the closed conversation expires.
        await chat(kept_text, not_in=closed)

        # A customer of the API channel who gave a name and an e-mail, then went quiet.
        api = (
            await client.post("/api/v1/inboxes", json={"name": "API", "channel": "api"}, headers=tenant.headers)
        ).json()
        body = json.dumps(
            {
                "contact": {"external_id": f"cust-{tag}", "name": name, "email": email},
                "message": {"id": "m1", "text": "hi"},
            }
        ).encode()
        sent = await client.post(
            f"/webhooks/api/{api['id']}", content=body, headers=signed_headers(api["secret"], body)
        )
        assert sent.status_code == 202, sent.text
        inactive = await agent.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["conversation"]["inbox_id"] == api["id"]
        )
        done = await client.post(
            f"/api/v1/conversations/{inactive['conversation']['id']}/resolve", headers=agent_headers
        )
        assert done.status_code == 200, done.text

        async def streamed() -> bool:  # the agent's stream holds the texts
            found = await scan_redis(stack_urls.redis_url)
            return closed_text in found and kept_text in found

        await eventually(streamed)
        policies = {"closed_conversations": 1, "inactive_contacts": 1}
        put = await client.put("/api/v1/privacy/retention", json=policies, headers=tenant.headers)
        assert put.status_code == 200, put.text
        await agent.close()

    res = privacy(system)
    result = await retention_sweep(
        res, res.settings, account_id=uuid.UUID(tenant.account_id), now=utcnow() + timedelta(days=2)
    )
    assert result.rows["closed_conversations"] >= 1 and result.rows["inactive_contacts"] >= 1, result.rows

    kafka = await scan_kafka(system.settings(), system.env["DATABASE_URL"])
    redis = await scan_redis(stack_urls.redis_url)
    assert kept_text in kafka, "the open conversation's records still decrypt"
    assert kept_text in redis, "the open conversation's stream entries stay"
    for where, haystack in (("kafka", kafka), ("redis", redis)):
        hits = [n for n in (closed_text, reply_text, name, email) if n in haystack]
        assert not hits, f"{where} still holds {hits} after retention"


async def test_the_messages_policy_trims_agents_streams(system: LiveServer, stack_urls: StackUrls) -> None:
    tag = uuid.uuid4().hex[:12]
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        agent_id, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={agent_token}")
        web = await create_web_inbox(client, tenant)
        visitor = await visitor_session(client, web["widget_token"])
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        sent = await client.post("/api/v1/widget/messages", json={"text": f"old words {tag}"}, headers=headers)
        assert sent.status_code == 202, sent.text
        await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        await agent.close()
        put = await client.put("/api/v1/privacy/retention", json={"messages": 1}, headers=tenant.headers)
        assert put.status_code == 200, put.text
    res = privacy(system)
    stream = res.keys.agent_stream(uuid.UUID(agent_id))

    async def in_stream() -> bool:
        return any(f"old words {tag}" in json.dumps(e) for _, e in await res.redis.xrange(stream))

    await eventually(in_stream)
    await retention_sweep(res, res.settings, account_id=uuid.UUID(tenant.account_id), now=utcnow() + timedelta(days=2))
    assert not await in_stream()
