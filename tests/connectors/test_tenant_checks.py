"""Consumers check the tenant id of a record against the database row it names: a reply forged on the broker
with one tenant's id and another tenant's conversation and inbox is not delivered through that inbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from switchboard_common.domain.events import MessageCreated, MessageCreatedPayload, utcnow
from switchboard_devstack.servers import StackUrls

from tests.fakes.receivers import Receiver
from tests.helpers.api import Socket, create_agent, signup
from tests.helpers.api_channel import post_signed
from tests.helpers.live import LiveServer, live_server


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls, OUTBOUND_ALLOW_PRIVATE="true") as live:
        yield live


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


def forged_reply(tenant: str, conversation: dict[str, Any], body: str) -> MessageCreated:
    return MessageCreated(
        tenant_id=uuid.UUID(tenant),
        conversation_id=uuid.UUID(conversation["id"]),
        payload=MessageCreatedPayload(
            message_id=uuid.uuid4(),
            inbox_id=uuid.UUID(conversation["inbox_id"]),
            contact_id=uuid.UUID(conversation["contact_id"]),
            channel="api",
            direction="outbound",
            sender_type="agent",
            text=body,
            created_at=utcnow(),
        ),
    )


async def test_a_reply_forged_with_another_tenants_id_is_not_delivered(system: LiveServer, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        victim, attacker = await signup(client), await signup(client)
        inbox = (
            await client.post(
                "/api/v1/inboxes",
                headers=victim.headers,
                json={"name": "Shop", "channel": "api", "settings": {"callback_url": receiver.url + "/cb"}},
            )
        ).json()
        _, agent_token = await create_agent(client, victim)
        agent = await Socket.open(f"{system.ws_url}/api/v1/ws?token={agent_token}")
        payload = {"contact": {"external_id": "cust-1"}, "message": {"id": "m-1", "text": "hello"}}
        accepted = await post_signed(client, inbox["id"], inbox["secret"], payload)
        assert accepted.status_code == 202, accepted.text
        conversation = (await agent.wait_for(lambda f: f["type"] == "conversation.assigned"))["conversation"]

        bus = system.resources("gateway").bus
        # Forged: the attacker's tenant id on the victim's conversation and inbox.
        await bus.publish(forged_reply(attacker.account_id, conversation, "forged via the broker"))
        # Then a real reply on the same conversation (same partition, so it is handled after the forged one).
        reply = await client.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": "real reply"},
            headers={"Authorization": f"Bearer {agent_token}"},
        )
        assert reply.status_code == 201, reply.text
        await receiver.wait_for(1, "/cb")
        await asyncio.sleep(0.5)
        texts = [call.json()["message"]["text"] for call in receiver.received if call.path == "/cb"]
        assert texts == ["real reply"], texts
        await agent.close()
