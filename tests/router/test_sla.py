"""SLA policies end to end: a 2-second first response breaches, once, on the assignee's and the admins'
sockets and through an account webhook; timers fire exactly once with several workers racing; the API."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.domain.events import (
    ConversationCreated,
    ConversationCreatedPayload,
    Event,
    MessageCreated,
    MessageCreatedPayload,
)
from switchboard_common.domain.sla import clock
from switchboard_common.domain.sla.models import ConversationSla, SlaPolicy
from switchboard_common.domain.subscriptions.models import WebhookDelivery
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources
from switchboard_devstack.servers import StackUrls
from switchboard_router.bench import create_conversations, seed_account
from switchboard_router.sla import SETTLE_SLICE, SlaClocks, SlaConsumer, run_due_sla

from tests.fakes.receivers import Receiver
from tests.helpers.api import Socket, create_web_inbox, eventually, online_agent, signup, visitor_session
from tests.helpers.live import LiveServer, live_server
from tests.helpers.router import router_settings


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    # Ready: a 2-second clock must not start before the router's writer owns its partitions (its first group join
    # takes seconds), or the conversation is still unassigned when it breaches and the assignee is not told.
    async with live_server(stack_urls, ready=True, OUTBOUND_ALLOW_PRIVATE="true") as live:
        yield live


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


async def _visitor_writes(client: httpx.AsyncClient, inbox: dict, text: str = "hello") -> str:
    visitor = await visitor_session(client, inbox["widget_token"])
    sent = await client.post(
        "/api/v1/widget/messages", json={"text": text}, headers={"Authorization": f"Bearer {visitor['visitor_token']}"}
    )
    assert sent.status_code == 202, sent.text
    return str(sent.json()["conversation_id"])


async def test_two_second_first_response_breaches_on_sockets_and_webhook(
    system: LiveServer, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        # The owner watches (online, on a socket) without taking conversations.
        capped = await client.patch(
            f"/api/v1/agents/{tenant.owner_id}", headers=tenant.headers, json={"max_conversations": 0}
        )
        assert capped.status_code == 200, capped.text
        owner = await Socket.open(f"{system.ws_url}/api/v1/ws?token={tenant.token}")
        await owner.wait_for(lambda f: f["type"] == "session.ready")
        hook = await client.post(
            "/api/v1/webhooks",
            headers=tenant.headers,
            json={"url": receiver.url + "/sla", "events": ["conversation.sla_breached"]},
        )
        assert hook.status_code == 201, hook.text
        inbox = await create_web_inbox(client, tenant)
        created = await client.post(
            "/api/v1/sla-policies",
            headers=tenant.headers,
            json={
                "name": "Chat",
                "first_response_seconds": 2,
                "next_response_seconds": None,
                "resolution_seconds": None,
                "business_hours_only": False,
                "inbox_ids": [inbox["id"]],
                "raise_priority": 1,
            },
        )
        assert created.status_code == 201, created.text
        policy = created.json()
        assert policy["inbox_ids"] == [inbox["id"]] and policy["pause_statuses"] == ["pending", "snoozed"]
        agent_id, agent_token, agent = await online_agent(client, system, tenant)

        conversation_id = await _visitor_writes(client, inbox)
        await agent.wait_for(lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id)

        def breached(frame: dict) -> bool:
            return frame["type"] == "conversation.sla_breached" and frame["conversation_id"] == conversation_id

        seen = await agent.wait_for(breached, timeout=30)
        assert seen["target"] == "first_response" and seen["policy_id"] == policy["id"]
        assert (await owner.wait_for(breached, timeout=30))["event_id"] == seen["event_id"]
        call = (await receiver.wait_for(1, "/sla"))[0].json()
        assert call["event"] == "conversation.sla_breached" and call["conversation_id"] == conversation_id
        assert call["data"]["target"] == "first_response" and call["data"]["agent_id"] == agent_id

        headers = {"Authorization": f"Bearer {agent_token}"}

        async def raised() -> dict | None:
            body = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
            return body if body["priority"] == 1 else None

        body = await eventually(raised)
        assert body["sla"]["policy_id"] == policy["id"]
        assert [b["target"] for b in body["sla"]["breached"]] == ["first_response"]
        assert body["sla"]["first_response_due_at"] is not None

        # Once: replying now (late) or the timers running again adds nothing.
        reply = await client.post(
            f"/api/v1/conversations/{conversation_id}/messages", json={"text": "hi"}, headers=headers
        )
        assert reply.status_code == 201
        await run_due_sla(system.resources("router"), utcnow() + timedelta(days=30))

        async def answered() -> dict | None:
            body = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)).json()
            return body if body["sla"]["first_response_due_at"] is None else None

        body = await eventually(answered)
        assert len(body["sla"]["breached"]) == 1
        assert len([f for f in agent.frames if breached(f)]) == 1
        async with cross_tenant_session(system.resources("router").sessionmaker) as session:
            deliveries = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.conversation_id == uuid.UUID(conversation_id))
            )
        assert deliveries == 1
        for socket in (owner, agent):
            await socket.close()


async def test_racing_timer_workers_breach_exactly_once(system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        created = await client.post(
            "/api/v1/sla-policies",
            headers=tenant.headers,
            json={
                "name": "Slow",
                "first_response_seconds": 3600,
                "resolution_seconds": 7200,
                "inbox_ids": [inbox["id"]],
            },
        )
        assert created.status_code == 201
        conversation_id = uuid.UUID(await _visitor_writes(client, inbox))
        res = system.resources("router")

        async def clock_started() -> bool:
            async with cross_tenant_session(res.sessionmaker) as session:
                row = await session.get(ConversationSla, conversation_id)
                return row is not None and row.check_at is not None

        await eventually(clock_started)
        later = utcnow() + timedelta(hours=3)
        # Three replicas' workers at once, each with its own caches: every breach is recorded once.
        await asyncio.gather(*(run_due_sla(res, later, clocks=SlaClocks(res)) for _ in range(3)))
        await asyncio.gather(*(run_due_sla(res, later, clocks=SlaClocks(res)) for _ in range(3)))
        async with cross_tenant_session(res.sessionmaker) as session:
            row = await session.get(ConversationSla, conversation_id)
        assert row is not None
        assert sorted(b["target"] for b in row.breached) == ["first_response", "resolution"]
        assert row.check_at is None

        body = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)).json()
        assert len(body["sla"]["breached"]) == 2


async def test_policy_api_validates_and_keeps_one_policy_per_target(system: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        base = {"name": "A", "first_response_seconds": 60, "inbox_ids": [inbox["id"]], "labels": ["vip"]}
        first = await client.post("/api/v1/sla-policies", headers=tenant.headers, json=base)
        assert first.status_code == 201, first.text
        taken = await client.post("/api/v1/sla-policies", headers=tenant.headers, json={**base, "name": "B"})
        assert taken.status_code == 409 and taken.json()["error"]["code"] == "sla_target_taken"
        same_name = await client.post(
            "/api/v1/sla-policies", headers=tenant.headers, json={"name": "A", "first_response_seconds": 5}
        )
        assert same_name.status_code == 409 and same_name.json()["error"]["code"] == "name_taken"
        no_target = await client.post("/api/v1/sla-policies", headers=tenant.headers, json={"name": "C"})
        assert no_target.status_code == 422 and "error" in no_target.json()
        negative = await client.post(
            "/api/v1/sla-policies", headers=tenant.headers, json={"name": "D", "first_response_seconds": -1}
        )
        assert negative.status_code == 422
        foreign = await client.post(
            "/api/v1/sla-policies",
            headers=tenant.headers,
            json={"name": "E", "first_response_seconds": 5, "inbox_ids": [str(uuid.uuid4())]},
        )
        assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "unknown_inbox"

        policy_id = first.json()["id"]
        updated = await client.patch(
            f"/api/v1/sla-policies/{policy_id}", headers=tenant.headers, json={"resolution_seconds": 600, "labels": []}
        )
        assert updated.status_code == 200 and updated.json()["resolution_seconds"] == 600
        assert updated.json()["labels"] == [] and updated.json()["first_response_seconds"] == 60
        put = await client.put(f"/api/v1/sla-policies/{policy_id}", headers=tenant.headers, json={"name": "A2"})
        assert put.status_code == 200 and put.json()["name"] == "A2"
        listed = await client.get("/api/v1/sla-policies", headers=tenant.headers)
        assert [p["id"] for p in listed.json()] == [policy_id]
        other = await signup(client)
        assert (await client.get(f"/api/v1/sla-policies/{policy_id}", headers=other.headers)).status_code == 404
        _agent_id, agent_token, agent = await online_agent(client, system, tenant)
        forbidden = await client.delete(
            f"/api/v1/sla-policies/{policy_id}", headers={"Authorization": f"Bearer {agent_token}"}
        )
        assert forbidden.status_code == 403
        assert (await client.delete(f"/api/v1/sla-policies/{policy_id}", headers=tenant.headers)).status_code == 204
        assert (await client.get(f"/api/v1/sla-policies/{policy_id}", headers=tenant.headers)).status_code == 404
        await agent.close()


async def test_labels_set_through_the_api_and_the_inbox_rule_choose_label_policies(system: LiveServer) -> None:
    """The workspace's labels reach the SLA clocks: the inbox's routing rule labels a new conversation, an agent
    changes its labels, an admin deletes a label; each time the conversation's policy follows."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        for name in ("vip", "billing"):
            made = await client.post("/api/v1/labels", headers=tenant.headers, json={"name": name, "color": "#aa0000"})
            assert made.status_code == 201, made.text
        rule = await client.put(
            f"/api/v1/inboxes/{inbox['id']}/routing", headers=tenant.headers, json={"labels": ["billing"]}
        )
        assert rule.status_code == 200, rule.text
        policies = {}
        for name, label, seconds in (("Inbox", None, 3600), ("Billing", "billing", 1800), ("VIP", "vip", 600)):
            target = {"labels": [label]} if label else {"inbox_ids": [inbox["id"]]}
            made = await client.post(
                "/api/v1/sla-policies",
                headers=tenant.headers,
                json={"name": name, "first_response_seconds": seconds, "business_hours_only": False, **target},
            )
            assert made.status_code == 201, made.text
            policies[name] = made.json()["id"]
        conversation_id = await _visitor_writes(client, inbox)

        async def policy_is(name: str) -> dict | None:
            body = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)).json()
            return body if (body.get("sla") or {}).get("policy_id") == policies[name] else None

        assert (await eventually(lambda: policy_is("Billing")))["labels"] == ["billing"]
        put = await client.put(
            f"/api/v1/conversations/{conversation_id}/labels", headers=tenant.headers, json={"labels": ["vip"]}
        )
        assert put.status_code == 200 and put.json()["labels"] == ["vip"]
        await eventually(lambda: policy_is("VIP"))
        labels = {
            label["name"]: label["id"] for label in (await client.get("/api/v1/labels", headers=tenant.headers)).json()
        }
        deleted = await client.delete(f"/api/v1/labels/{labels['vip']}", headers=tenant.headers)
        assert deleted.status_code == 204
        await eventually(lambda: policy_is("Inbox"))


async def test_a_policy_without_targets_applies_to_every_conversation(system: LiveServer) -> None:
    """The bare POST of the contract: no inbox, team or label named, the policy is the account's default."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        created = await client.post(
            "/api/v1/sla-policies",
            headers=tenant.headers,
            json={
                "name": "Everyone",
                "first_response_seconds": 2,
                "next_response_seconds": None,
                "resolution_seconds": None,
                "business_hours_only": False,
            },
        )
        assert created.status_code == 201, created.text
        owner = await Socket.open(f"{system.ws_url}/api/v1/ws?token={tenant.token}")
        try:
            await owner.wait_for(lambda f: f["type"] == "session.ready")
            conversation_id = await _visitor_writes(client, inbox)
            seen = await owner.wait_for(
                lambda f: f["type"] == "conversation.sla_breached" and f["conversation_id"] == conversation_id,
                timeout=30,
            )
            assert seen["policy_id"] == created.json()["id"] and seen["target"] == "first_response"
        finally:
            await owner.close()


def _message(conversation: Conversation, *, agent: bool) -> MessageCreated:
    return MessageCreated(
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=MessageCreatedPayload(
            message_id=uuid.uuid4(),
            inbox_id=conversation.inbox_id,
            contact_id=conversation.contact_id,
            channel="web",
            direction="outbound" if agent else "inbound",
            sender_type="agent" if agent else "contact",
            sender_id=None if agent else conversation.contact_id,
            text="reply" if agent else "again",
            created_at=utcnow(),
        ),
    )


async def test_a_poll_of_messages_is_settled_in_one_locking_read(stack_urls: StackUrls) -> None:
    """The consumer's batch path: one transaction locks every named row once, applies each event in order (a
    reply meets the first response, the customer's next message starts a next-response cycle), and an id
    without a row (another account's, or unknown) is looked up with the poll's new conversations and creates
    nothing. Its own router resources and no live consumer: nothing else touches these conversations."""
    res = await Resources.open(router_settings(stack_urls, f"t{uuid.uuid4().hex[:10]}"), event_codec)
    try:
        seed = await seed_account(res, capacities=[5])
        async with res.sessionmaker() as session, session.begin():
            session.add(
                SlaPolicy(
                    account_id=seed.account_id, name="Batch", first_response_seconds=3600, next_response_seconds=3600
                )
            )
        ids = await create_conversations(res, seed, 2)
        async with cross_tenant_session(res.sessionmaker) as session:
            first, second = [await session.get(Conversation, i) for i in ids]
        assert first is not None and second is not None
        consumer = SlaConsumer(res)
        assert consumer.consumer().batch_handler is not None
        await consumer.handle_batch([(_created(c), None) for c in (first, second)])  # type: ignore[misc]
        stranger = Conversation(
            id=uuid.uuid4(), account_id=uuid.uuid4(), inbox_id=first.inbox_id, contact_id=first.contact_id
        )
        batch = [
            _message(first, agent=True),
            _message(second, agent=True),
            _message(stranger, agent=False),
            _message(first, agent=False),
        ]
        locking: list[str] = []
        updates: list[tuple[str, bool]] = []

        def count(
            _conn: object, _cursor: object, statement: str, parameters: object, _context: object, many: bool
        ) -> None:
            if "FROM conversation_sla" in statement and "FOR UPDATE" in statement:
                locking.append(repr(parameters))
            if statement.lstrip().startswith("UPDATE conversation_sla"):
                updates.append((statement, many))

        sqlalchemy_event.listen(res.engine.sync_engine, "before_cursor_execute", count)
        try:
            await consumer.handle_batch([(e, None) for e in batch])  # type: ignore[misc]
        finally:
            sqlalchemy_event.remove(res.engine.sync_engine, "before_cursor_execute", count)
        # One for the whole poll (not one per message); the stranger's conversation is not stored: no row to lock.
        assert len(locking) == 1, locking
        # And the poll's changed rows are stored by one statement (one round trip), not an UPDATE per row.
        assert len(updates) == 1 and not updates[0][1], updates
        assert all(repr(i) in locking[0] or str(i) in locking[0] for i in (*ids, stranger.id)), locking
        async with cross_tenant_session(res.sessionmaker) as session:
            one, two = [await session.get(ConversationSla, i) for i in ids]
            assert await session.get(ConversationSla, stranger.id) is None
        assert one is not None and two is not None
        for row in (one, two):
            assert clock.SlaState.from_json(row.state).clock("first_response").met_at is not None
        assert clock.SlaState.from_json(one.state).clock("next_response").awaiting
        assert not clock.SlaState.from_json(two.state).clock("next_response").awaiting
    finally:
        await res.close()


def _created(conversation: Conversation) -> ConversationCreated:
    return ConversationCreated(
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=ConversationCreatedPayload(
            inbox_id=conversation.inbox_id, contact_id=conversation.contact_id, channel="web"
        ),
    )


async def test_a_polls_events_are_timed_in_one_batch_like_one_by_one(stack_urls: StackUrls) -> None:
    """The SLA consumer takes a poll's events together (rows locked and created in bulk, one transaction per
    account): each conversation gets the clock handling them one by one gives it, in its events' order, and
    an event of a conversation that is not stored changes nothing."""
    settings = router_settings(stack_urls, f"t{uuid.uuid4().hex[:10]}")
    res = await Resources.open(settings, event_codec)
    try:
        seed = await seed_account(res, capacities=[5])
        async with res.sessionmaker() as session, session.begin():
            policy = SlaPolicy(account_id=seed.account_id, name="Everyone", first_response_seconds=600)
            session.add(policy)
        batched = await create_conversations(res, seed, 3)
        alone = await create_conversations(res, seed, 3)
        contacts = await contacts_of(res, [*batched, *alone])

        def created(conversation_id: uuid.UUID) -> ConversationCreated:
            return ConversationCreated(
                tenant_id=seed.account_id,
                conversation_id=conversation_id,
                payload=ConversationCreatedPayload(
                    inbox_id=seed.inbox_id, contact_id=contacts[conversation_id], channel="web"
                ),
            )

        def agent_wrote(conversation_id: uuid.UUID) -> MessageCreated:
            return MessageCreated(
                tenant_id=seed.account_id,
                conversation_id=conversation_id,
                payload=MessageCreatedPayload(
                    message_id=uuid.uuid4(),
                    inbox_id=seed.inbox_id,
                    contact_id=contacts[conversation_id],
                    channel="web",
                    direction="outbound",
                    sender_type="agent",
                    sender_id=seed.agent_ids[0],
                    created_at=utcnow(),
                ),
            )

        # The first conversation of each trio gets its first response: its first-response clock stops.
        def story(ids: list[uuid.UUID]) -> list[Event]:
            return [created(ids[0]), created(ids[1]), agent_wrote(ids[0]), created(ids[2])]

        consumer = SlaConsumer(res)
        unknown = uuid.uuid4()
        ghost = ConversationCreated(
            tenant_id=seed.account_id,
            conversation_id=unknown,
            payload=ConversationCreatedPayload(inbox_id=seed.inbox_id, contact_id=uuid.uuid4(), channel="web"),
        )
        await consumer.handle_batch([(event, None) for event in [*story(batched), ghost]])  # type: ignore[misc]
        for event in story(alone):
            await consumer.handle(event)
        async with cross_tenant_session(res.sessionmaker) as session:
            rows = {
                row.conversation_id: row
                for row in (
                    await session.scalars(
                        select(ConversationSla).where(ConversationSla.conversation_id.in_([*batched, *alone, unknown]))
                    )
                ).all()
            }
        assert unknown not in rows
        for one, other in zip(batched, alone, strict=True):
            a, b = rows[one], rows[other]
            assert a.policy_id == b.policy_id == policy.id
            assert set(a.summary) == set(b.summary) and a.summary
            assert {k: v for k, v in a.summary.items() if not str(k).endswith("_at")} == {
                k: v for k, v in b.summary.items() if not str(k).endswith("_at")
            }
            assert (a.check_at is None) == (b.check_at is None)
        assert rows[batched[0]].summary != rows[batched[1]].summary  # the first response reached the first
    finally:
        await res.close()


async def contacts_of(res: Resources, conversation_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    async with cross_tenant_session(res.sessionmaker) as session:
        return dict(
            (
                await session.execute(
                    select(Conversation.id, Conversation.contact_id).where(Conversation.id.in_(conversation_ids))
                )
            ).all()
        )


async def test_new_conversations_clock_rows_are_created_by_one_statement_whatever_the_polls_size(
    stack_urls: StackUrls,
) -> None:
    """Polls of one and of three new conversations create their clock rows with the same SQL (compiled once and
    prepared, not a VALUES list rebuilt for each count), each row starting as the one-by-one path starts it."""
    settings = router_settings(stack_urls, f"t{uuid.uuid4().hex[:10]}")
    res = await Resources.open(settings, event_codec)
    try:
        seed = await seed_account(res, capacities=[5])
        ids = await create_conversations(res, seed, 4)
        contacts = await contacts_of(res, ids)

        def created(conversation_id: uuid.UUID) -> ConversationCreated:
            return ConversationCreated(
                tenant_id=seed.account_id,
                conversation_id=conversation_id,
                payload=ConversationCreatedPayload(
                    inbox_id=seed.inbox_id, contact_id=contacts[conversation_id], channel="web"
                ),
            )

        inserts: list[str] = []

        def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if "INSERT INTO conversation_sla" in statement:
                inserts.append(statement)

        consumer = SlaConsumer(res)
        sqlalchemy_event.listen(res.engine.sync_engine, "before_cursor_execute", record)
        try:
            await consumer.handle_batch([(created(ids[0]), None)])  # type: ignore[misc]
            await consumer.handle_batch([(created(i), None) for i in ids[1:]])  # type: ignore[misc]
        finally:
            sqlalchemy_event.remove(res.engine.sync_engine, "before_cursor_execute", record)
        assert len(inserts) == 2 and inserts[0] == inserts[1], inserts
        async with cross_tenant_session(res.sessionmaker) as session:
            rows = (
                await session.scalars(select(ConversationSla).where(ConversationSla.conversation_id.in_(ids)))
            ).all()
        assert len(rows) == 4
        for row in rows:
            assert row.account_id == seed.account_id and row.inbox_id == seed.inbox_id and row.team_id is None
            assert row.labels == [] and row.breached == []
            assert clock.SlaState.from_json(row.state).opened  # the created event opened its clock
    finally:
        await res.close()


async def test_a_large_poll_lets_the_event_loop_go_between_slices(stack_urls: StackUrls) -> None:
    """The consumer shares its event loop with the routing writer: a poll of many events (a drain's backlog) is
    settled in slices, and other tasks run between them, so no more than a slice of events is applied while
    the writer waits. Every event is still settled."""
    res = await Resources.open(router_settings(stack_urls, f"t{uuid.uuid4().hex[:10]}"), event_codec)
    try:
        seed = await seed_account(res, capacities=[5])
        async with res.sessionmaker() as session, session.begin():
            session.add(SlaPolicy(account_id=seed.account_id, name="Everyone", first_response_seconds=600))
        ids = await create_conversations(res, seed, SETTLE_SLICE * 3 + 7)
        contacts = await contacts_of(res, ids)
        applied = 0

        class Counting(SlaConsumer):
            async def apply(self, *args: Any, **kwargs: Any) -> list[Event]:
                nonlocal applied
                applied += 1
                return await super().apply(*args, **kwargs)

        turns: list[int] = []

        async def other_task() -> None:  # stands for the writer: notes how far the consumer got each time it runs
            while True:
                turns.append(applied)
                await asyncio.sleep(0)

        events = [
            ConversationCreated(
                tenant_id=seed.account_id,
                conversation_id=i,
                payload=ConversationCreatedPayload(inbox_id=seed.inbox_id, contact_id=contacts[i], channel="web"),
            )
            for i in ids
        ]
        probe = asyncio.create_task(other_task())
        try:
            await Counting(res).handle_batch([(event, None) for event in events])  # type: ignore[misc]
        finally:
            probe.cancel()
        turns.append(applied)
        assert applied == len(ids)
        # The most events applied while the other task could not run.
        assert max(b - a for a, b in itertools.pairwise(turns)) <= SETTLE_SLICE, turns
        async with cross_tenant_session(res.sessionmaker) as session:
            rows = (
                await session.scalars(select(ConversationSla).where(ConversationSla.conversation_id.in_(ids)))
            ).all()
        assert len(rows) == len(ids) and all(clock.SlaState.from_json(r.state).opened for r in rows)
    finally:
        await res.close()
