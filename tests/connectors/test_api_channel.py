"""The API channel both ways, against a local receiver standing in for a customer's back end."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from switchboard_common.infra import signing
from switchboard_devstack.servers import StackUrls

from tests.fakes.receivers import Receiver
from tests.helpers.api import Socket, create_agent, signup
from tests.helpers.api_channel import post_signed
from tests.helpers.live import LiveServer, live_server


@pytest.fixture(scope="module")
async def api_system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        OUTBOUND_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_BASE_SECONDS="0.05",
        WEBHOOK_RETRY_MAX_SECONDS="0.2",
        WEBHOOK_MAX_ATTEMPTS="4",
    ) as live:
        yield live


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


def customer_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What a customer writes to verify our calls: a few lines, no SDK."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


async def test_inbound_to_agent_and_reply_to_callback(api_system: LiveServer, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=api_system.url, timeout=30) as client:
        tenant = await signup(client)
        created = await client.post(
            "/api/v1/inboxes",
            headers=tenant.headers,
            json={"name": "Shop back end", "channel": "api", "settings": {"callback_url": receiver.url + "/callback"}},
        )
        assert created.status_code == 201, created.text
        inbox = created.json()
        assert set(inbox) >= {"id", "channel", "secret"} and inbox["channel"] == "api"
        assert "secret" not in (await client.get(f"/api/v1/inboxes/{inbox['id']}", headers=tenant.headers)).json()
        agent_id, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{api_system.ws_url}/api/v1/ws?token={agent_token}")
        await agent.wait_for(lambda f: f["type"] == "session.ready")

        payload = {
            "contact": {"external_id": "cust-42", "name": "Ada"},
            "message": {"id": "m-1", "text": "Where is my parcel?"},
        }
        accepted = await post_signed(client, inbox["id"], inbox["secret"], payload)
        assert accepted.status_code == 202, accepted.text
        again = await post_signed(client, inbox["id"], inbox["secret"], payload)
        assert again.status_code == 200 and again.json()["message_id"] == accepted.json()["message_id"]

        assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        assert await agent.texts_for(assigned["conversation_id"], 1) == ["Where is my parcel?"]
        conversation_id = assigned["conversation_id"]

        reply = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": "On its way"},
            headers={"Authorization": f"Bearer {agent_token}"},
        )
        assert reply.status_code == 201
        [call] = await receiver.wait_for(1, "/callback")
        timestamp = call.headers[signing.TIMESTAMP_HEADER]
        assert call.headers[signing.SIGNATURE_HEADER] == customer_signature(inbox["secret"], timestamp, call.body)
        assert abs(time.time() - int(timestamp)) < 60
        assert call.json() == {
            "event": "message.created",
            "conversation_id": conversation_id,
            "contact": {"external_id": "cust-42"},
            "message": {
                "id": reply.json()["id"],
                "text": "On its way",
                "created_at": call.json()["message"]["created_at"],
            },
        }
        sent = await agent.wait_for(lambda f: f["type"] == "message.delivery_updated")
        assert sent["status"] == "sent" and sent["message_id"] == reply.json()["id"]
        # Exactly one message stored for the repeated inbound id.
        history = await client.get(
            f"/api/v1/conversations/{conversation_id}/messages", headers={"Authorization": f"Bearer {agent_token}"}
        )
        assert [m["text"] for m in history.json()] == ["Where is my parcel?", "On its way"]
        await agent.close()
        del agent_id


async def test_callback_retried_until_success_then_failure_reaches_agent(
    api_system: LiveServer, receiver: Receiver
) -> None:
    receiver.script = [500, 503]
    async with httpx.AsyncClient(base_url=api_system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = (
            await client.post(
                "/api/v1/inboxes",
                headers=tenant.headers,
                json={"name": "B", "channel": "api", "settings": {"callback_url": receiver.url + "/cb"}},
            )
        ).json()
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{api_system.ws_url}/api/v1/ws?token={agent_token}")
        await post_signed(
            client,
            inbox["id"],
            inbox["secret"],
            {"contact": {"external_id": "c"}, "message": {"id": "1", "text": "hi"}},
        )
        assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        headers = {"Authorization": f"Bearer {agent_token}"}
        first = await client.post(
            f"/api/v1/conversations/{assigned['conversation_id']}/messages", json={"text": "one"}, headers=headers
        )
        await agent.wait_for(lambda f: f["type"] == "message.delivery_updated" and f["status"] == "sent")
        calls = await receiver.wait_for(3, "/cb")
        assert [c.json()["message"]["id"] for c in calls] == [first.json()["id"]] * 3  # 500, 503, then 200
        await asyncio.sleep(0.5)  # room for a wrong extra delivery to show up before counting
        assert len(receiver.received) == 3

        receiver.script = [500] * 10
        second = await client.post(
            f"/api/v1/conversations/{assigned['conversation_id']}/messages", json={"text": "two"}, headers=headers
        )
        failed = await agent.wait_for(lambda f: f["type"] == "message.delivery_updated" and f["status"] == "failed")
        assert failed["message_id"] == second.json()["id"] and failed["reason"] == "http_500"
        await agent.close()


async def test_rejections_store_nothing(api_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=api_system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = (
            await client.post(
                "/api/v1/inboxes", headers=tenant.headers, json={"name": "C", "channel": "api", "settings": {}}
            )
        ).json()
        payload = {"contact": {"external_id": "x"}, "message": {"id": "1", "text": "hello"}}
        forged = await post_signed(client, inbox["id"], "not-the-secret", payload)
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_signature"
        stale = await post_signed(client, inbox["id"], inbox["secret"], payload, timestamp=time.time() - 301)
        assert stale.status_code == 401 and stale.json()["error"]["code"] == "stale_timestamp"
        unknown = await post_signed(client, str(uuid.uuid4()), inbox["secret"], payload)
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_inbox"
        malformed = await post_signed(client, inbox["id"], inbox["secret"], {"contact": {}, "message": {"id": "1"}})
        assert malformed.status_code == 422
        body = b"{not json"
        broken = await client.post(
            f"/webhooks/api/{inbox['id']}", content=body, headers=signing.signed_headers(inbox["secret"], body)
        )
        assert broken.status_code == 400 and broken.json()["error"]["code"] == "malformed_json"
        conversations = await client.get("/api/v1/conversations", headers=tenant.headers)
        assert conversations.json() == []


async def test_secret_rotation_keeps_the_old_secret_for_a_while(api_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=api_system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = (
            await client.post(
                "/api/v1/inboxes", headers=tenant.headers, json={"name": "R", "channel": "api", "settings": {}}
            )
        ).json()
        rotated = await client.post(f"/api/v1/inboxes/{inbox['id']}/rotate-secret", headers=tenant.headers)
        assert rotated.status_code == 200 and rotated.json()["secret"] != inbox["secret"]
        for secret, message_id in ((inbox["secret"], "old"), (rotated.json()["secret"], "new")):
            response = await post_signed(
                client,
                inbox["id"],
                secret,
                {"contact": {"external_id": "r"}, "message": {"id": message_id, "text": "t"}},
            )
            assert response.status_code == 202, response.text


HEADER_CHARS = st.characters(min_codepoint=33, max_codepoint=126)  # what HTTP header values can carry


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300),
    timestamp=st.text(HEADER_CHARS, max_size=20),
    signature=st.text(HEADER_CHARS, max_size=80),
)
async def test_arbitrary_requests_never_5xx(
    api_system: LiveServer, body: bytes, timestamp: str, signature: str
) -> None:
    async with httpx.AsyncClient(base_url=api_system.url, timeout=30) as client:
        response = await client.post(
            f"/webhooks/api/{uuid.uuid4()}",
            content=body,
            headers={
                signing.TIMESTAMP_HEADER: timestamp.encode("ascii", "ignore").decode(),
                signing.SIGNATURE_HEADER: signature.encode("ascii", "ignore").decode(),
            },
        )
        assert 400 <= response.status_code < 500
        assert "error" in response.json()
