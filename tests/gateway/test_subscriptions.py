"""Account webhooks: the four events in order for one conversation, signed; failing subscriptions disabled."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from redis.asyncio import Redis
from sqlalchemy import Select, func, select, update
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.events import ConversationStatusChanged, ConversationStatusPayload
from switchboard_common.domain.subscriptions.models import WebhookDelivery, WebhookSubscription
from switchboard_common.infra import signing
from switchboard_common.infra.db.base import utcnow
from switchboard_connectors.deliveries import DeliveryWorker
from switchboard_connectors.subscriptions import SubscriptionFanout
from switchboard_devstack.servers import StackUrls

from tests.fakes.receivers import Receiver
from tests.helpers.api import Socket, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer, live_server


@pytest.fixture(scope="module")
async def hooks_system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(
        stack_urls,
        OUTBOUND_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_BASE_SECONDS="0.05",
        WEBHOOK_RETRY_MAX_SECONDS="0.1",
        WEBHOOK_MAX_ATTEMPTS="2",
        WEBHOOK_DISABLE_AFTER_FAILURES="2",
    ) as live:
        yield live


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def test_four_events_in_order(hooks_system: LiveServer, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        tenant = await signup(client)
        hook = await client.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={
                "url": receiver.url + "/crm",
                "events": ["conversation.created", "message.created", "conversation.assigned", "conversation.resolved"],
            },
        )
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]
        assert (
            "secret" not in (await client.get(f"/api/v1/webhooks/{hook.json()['id']}", headers=tenant.headers)).json()
        )
        inbox = await create_web_inbox(client, tenant)
        _, agent_token = await create_agent(client, tenant)
        agent = await Socket.open(f"{hooks_system.ws_url}/api/v1/ws?token={agent_token}")
        visitor = await visitor_session(client, inbox["widget_token"], name="Nia")
        await client.post(
            "/api/v1/widget/messages",
            json={"text": "hello"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        await receiver.wait_for(3, "/crm")
        assigned = await agent.wait_for(lambda f: f["type"] == "conversation.assigned")
        resolve = await client.post(
            f"/api/v1/conversations/{assigned['conversation_id']}/resolve",
            headers={"Authorization": f"Bearer {agent_token}"},
        )
        assert resolve.status_code == 200 and resolve.json()["status"] == "resolved"
        calls = await receiver.wait_for(4, "/crm")
        names = [c.json()["event"] for c in calls]
        assert names == ["conversation.created", "message.created", "conversation.assigned", "conversation.resolved"]
        for call in calls:
            ts = call.headers[signing.TIMESTAMP_HEADER]
            assert signing.verify([secret], ts, call.body, call.headers[signing.SIGNATURE_HEADER])
            assert call.json()["conversation_id"] == assigned["conversation_id"]
        assert calls[1].json()["data"]["message"]["text"] == "hello"
        assert calls[0].json()["data"]["contact"]["name"] == "Nia"
        for _ in range(100):  # the last row is marked succeeded just after the receiver answered
            log = (await client.get(f"/api/v1/webhooks/{hook.json()['id']}/deliveries", headers=tenant.headers)).json()
            if {d["status"] for d in log} == {"succeeded"}:
                break
            await asyncio.sleep(0.05)
        assert [d["status"] for d in log] == ["succeeded"] * 4
        await agent.close()


async def test_failing_subscription_is_disabled_and_owner_told(hooks_system: LiveServer, receiver: Receiver) -> None:
    receiver.script = [500] * 20
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        tenant = await signup(client)
        owner = await Socket.open(f"{hooks_system.ws_url}/api/v1/ws?token={tenant.token}")
        await owner.wait_for(lambda f: f["type"] == "session.ready")
        hook = (
            await client.post(
                "/api/v1/webhooks",
                headers=tenant.headers,
                json={"url": receiver.url + "/down", "events": ["message.created"]},
            )
        ).json()
        inbox = await create_web_inbox(client, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        for text in ("a", "b", "c"):
            await client.post(
                "/api/v1/widget/messages",
                json={"text": text},
                headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
            )
        told = await owner.wait_for(lambda f: f["type"] == "webhook.disabled")
        assert told["webhook_id"] == hook["id"]
        state = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
        assert state["enabled"] is False and state["disabled_reason"]
        await owner.close()


async def test_urls_are_validated(hooks_system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        tenant = await signup(client)
        bad = await client.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={"url": "ftp://example.com/x", "events": ["message.created"]},
        )
        assert bad.status_code == 422
        unknown_event = await client.post(
            "/api/v1/webhooks", headers=tenant.headers, json={"url": "http://127.0.0.1:9/x", "events": ["nope"]}
        )
        assert unknown_event.status_code == 422


async def test_finished_deliveries_drop_their_payload_and_expire(hooks_system: LiveServer, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        tenant = await signup(client)
        hook = await client.post(
            "/api/v1/webhooks", headers=tenant.headers, json={"url": receiver.url + "/p", "events": ["message.created"]}
        )
        inbox = await create_web_inbox(client, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        await client.post(
            "/api/v1/widget/messages",
            json={"text": "private words"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        [call] = await receiver.wait_for(1, "/p")
        assert b"private words" in call.body
        log_url = f"/api/v1/webhooks/{hook.json()['id']}/deliveries"
        for _ in range(100):  # the row is marked succeeded right after the receiver answered
            log = (await client.get(log_url, headers=tenant.headers)).json()
            if log and log[0]["status"] == "succeeded":
                break
            await asyncio.sleep(0.05)
        assert [d["status"] for d in log] == ["succeeded"]

    resources = hooks_system.resources("connectors")
    account_id = uuid.UUID(tenant.account_id)
    async with cross_tenant_session(resources.sessionmaker) as session:
        [body] = (
            await session.scalars(select(WebhookDelivery.body).where(WebhookDelivery.account_id == account_id))
        ).all()
    assert body == b""

    worker = DeliveryWorker(resources)
    try:
        await worker.purge_finished()  # a fresh entry is kept
        async with cross_tenant_session(resources.sessionmaker) as session:
            assert await session.scalar(_count_for(account_id)) == 1
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.account_id == account_id)
                .values(completed_at=utcnow() - timedelta(days=resources.settings.webhook_delivery_log_days + 1))
            )
            await session.commit()
        await worker.purge_finished()
        async with cross_tenant_session(resources.sessionmaker) as session:
            assert await session.scalar(_count_for(account_id)) == 0
    finally:
        await worker.http.aclose()


def _count_for(account_id: uuid.UUID) -> Select[tuple[int]]:
    return select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.account_id == account_id)


async def test_an_undecryptable_secret_fails_the_delivery_instead_of_blocking(
    hooks_system: LiveServer, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        tenant = await signup(client)
        hook = (
            await client.post(
                "/api/v1/webhooks",
                headers=tenant.headers,
                json={"url": receiver.url + "/k", "events": ["message.created"]},
            )
        ).json()
        resources = hooks_system.resources("connectors")
        async with cross_tenant_session(resources.sessionmaker) as session:
            # As after an encryption key was dropped from ENCRYPTION_KEYS too early.
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == uuid.UUID(hook["id"]))
                .values(secret_encrypted=b"\x00" * 40)
            )
            await session.commit()
        inbox = await create_web_inbox(client, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        await client.post(
            "/api/v1/widget/messages",
            json={"text": "hi"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
        log_url = f"/api/v1/webhooks/{hook['id']}/deliveries"
        for _ in range(200):
            log = (await client.get(log_url, headers=tenant.headers)).json()
            if log and log[0]["status"] == "failed":
                break
            await asyncio.sleep(0.05)
        assert [(d["status"], d["last_error"]) for d in log] == [("failed", "target_unavailable")]
        assert receiver.received == []


async def test_a_new_subscription_applies_at_once(hooks_system: LiveServer, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        tenant = await signup(client)

        async def subscribe(path: str) -> None:
            created = await client.post(
                "/api/v1/webhooks",
                headers=tenant.headers,
                json={"url": receiver.url + path, "events": ["message.created"]},
            )
            assert created.status_code == 201, created.text

        inbox = await create_web_inbox(client, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        await subscribe("/first")
        await client.post("/api/v1/widget/messages", json={"text": "one"}, headers=visitor_headers)
        await receiver.wait_for(1, "/first")  # the fan-out has read (and cached) this account's subscriptions
        await subscribe("/second")
        await client.post("/api/v1/widget/messages", json={"text": "two"}, headers=visitor_headers)
        [call] = await receiver.wait_for(1, "/second")
        assert call.json()["data"]["message"]["text"] == "two"
        assert [c.json()["data"]["message"]["text"] for c in await receiver.wait_for(2, "/first")] == ["one", "two"]


class CountingRedis(Redis):
    """The real server; counts the commands the client sends."""

    commands: list[str]

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]))
        return await super().execute_command(*args, **options)


async def test_a_poll_reads_the_subscription_revisions_once(
    hooks_system: LiveServer, stack_urls: StackUrls, receiver: Receiver
) -> None:
    """The fan-out takes a poll's events together: one MGET of their accounts' revisions (not a GET per event),
    and still one pending delivery per event for each subscription that asked for its type."""
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        tenants = [await signup(client) for _ in range(2)]
        for tenant in tenants:
            hook = await client.post(
                "/api/v1/webhooks",
                headers=tenant.headers,
                json={"url": receiver.url + "/crm", "events": ["conversation.resolved"]},
            )
            assert hook.status_code == 201, hook.text
    resources = hooks_system.resources("connectors")
    redis = CountingRedis.from_url(stack_urls.redis_url, decode_responses=True)
    redis.commands = []
    fanout = SubscriptionFanout(dataclasses.replace(resources, redis=redis))
    batch = [(_resolved(uuid.UUID(tenant.account_id)), None) for tenant in tenants for _ in range(3)]
    try:
        await fanout.handle_batch(batch)  # type: ignore[arg-type]
    finally:
        await redis.aclose()
    assert redis.commands == ["MGET"], redis.commands
    async with cross_tenant_session(resources.sessionmaker) as session:
        for tenant in tenants:
            assert await session.scalar(_count_for(uuid.UUID(tenant.account_id))) == 3


def _record(headers: list[tuple[str, bytes]]) -> ConsumerRecord:
    return ConsumerRecord("conversations", 0, 0, 0, 0, b"k", b"{}", None, 1, 2, headers)


async def test_events_of_accounts_without_subscriptions_are_not_decoded(
    hooks_system: LiveServer, receiver: Receiver
) -> None:
    """The fan-out's gate reads the account from the record header: an account that subscribes to nothing
    has its events skipped before any decryption or parsing; one that subscribes has them decoded."""
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        subscribed, silent = await signup(client), await signup(client)
        hook = await client.post(
            "/api/v1/webhooks",
            headers=subscribed.headers,
            json={"url": receiver.url + "/crm", "events": ["message.created"]},
        )
        assert hook.status_code == 201, hook.text
    fanout = SubscriptionFanout(hooks_system.apps["connectors"].state.resources)
    records = [
        _record([("event_type", b"message.created"), ("account_id", silent.account_id.encode())]),
        _record([("event_type", b"message.created"), ("account_id", subscribed.account_id.encode())]),
        _record([("event_type", b"message.created")]),  # published before the header existed: decoded
    ]
    assert await fanout.subscribed(records) == [False, True, True]
    # Subscribing takes effect at once (the account's revision changes the cached answer).
    async with httpx.AsyncClient(base_url=hooks_system.url, timeout=30) as client:
        hook = await client.post(
            "/api/v1/webhooks",
            headers=silent.headers,
            json={"url": receiver.url + "/crm", "events": ["conversation.created"]},
        )
        assert hook.status_code == 201, hook.text
    assert await fanout.subscribed(records[:1]) == [True]


def _resolved(account_id: uuid.UUID) -> ConversationStatusChanged:
    return ConversationStatusChanged(
        tenant_id=account_id,
        conversation_id=uuid.uuid4(),
        payload=ConversationStatusPayload(inbox_id=uuid.uuid4(), status="resolved"),
    )
