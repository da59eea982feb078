"""The timeline consumer shows each message to its agent once, whichever frame carried it first.

A message reaches the assignee inside the assignment frame (stored before it) or as its own frame (after).
When the broker fails, the consumer handles again what it had not committed: a message handled before the
assignment is then handled after it, when the conversation has an assignee. A publisher's retry can also
carry one message in two events. Either way the agent must not see the message twice (the durable broker's
kill -9 test found it once in CI).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import text, update
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    ConversationStatusChanged,
    ConversationStatusPayload,
    Event,
    MessageCreated,
    MessageCreatedPayload,
    utcnow,
)
from switchboard_devstack.servers import StackUrls
from switchboard_gateway.conversations.timeline import Timeline

from tests.helpers.api import Socket, create_web_inbox, online_agent, signup, visitor_session
from tests.helpers.live import LiveServer, live_server


@pytest.fixture(scope="module")
async def system(stack_urls: StackUrls) -> AsyncIterator[LiveServer]:
    async with live_server(stack_urls) as live:
        yield live


def record() -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("conversations", 0, 0, 0, 0, b"k", b"{}", None, 1, 2, [])


def shown(agent: Socket, message_id: uuid.UUID) -> int:
    """How many times the agent's socket showed ``message_id``, in any frame."""
    count = 0
    for frame in agent.frames:
        if frame["type"] == "conversation.assigned":
            count += sum(m["id"] == str(message_id) for m in frame["messages"])
        elif frame["type"] == "message.created":
            count += frame["message"]["id"] == str(message_id)
    return count


async def test_a_message_carried_by_the_assignment_is_not_shown_again_when_its_event_returns(
    system: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        agent_id, _token, agent = await online_agent(client, system, tenant)
        visitor = await visitor_session(client, inbox["widget_token"])
        visitor_headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        sent = await client.post("/api/v1/widget/messages", json={"text": "first"}, headers=visitor_headers)
        conversation_id = uuid.UUID(sent.json()["conversation_id"])
        await agent.wait_for(lambda f: f["type"] == "conversation.assigned")

        res = system.resources("gateway")
        timeline = Timeline(res)
        async with cross_tenant_session(res.sessionmaker) as session, session.begin():
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            contact_id, inbox_id = conversation.contact_id, conversation.inbox_id
            # As before the assignment was handled: the timeline knows no assignee yet.
            await session.execute(
                update(Conversation).where(Conversation.id == conversation_id).values(timeline_assignee_id=None)
            )

        def message_event(message_id: uuid.UUID) -> MessageCreated:
            return MessageCreated(
                tenant_id=uuid.UUID(tenant.account_id),
                conversation_id=conversation_id,
                payload=MessageCreatedPayload(
                    message_id=message_id,
                    inbox_id=inbox_id,
                    contact_id=contact_id,
                    channel="web",
                    direction="inbound",
                    sender_type="contact",
                    sender_id=contact_id,
                    text="before the assignment",
                    created_at=utcnow(),
                ),
            )

        single, batched = uuid.uuid4(), uuid.uuid4()
        first_single, first_batched = message_event(single), message_event(batched)
        await timeline.handle(first_single, record())
        await timeline.handle_messages([(first_batched, record())])
        assignment = ConversationAssigned(
            tenant_id=uuid.UUID(tenant.account_id),
            conversation_id=conversation_id,
            payload=ConversationAssignedPayload(
                agent_id=uuid.UUID(agent_id), inbox_id=inbox_id, strategy="manual", reason="manual"
            ),
        )
        await timeline.handle(assignment, record())
        carried = await agent.wait_for(
            lambda f: f["type"] == "conversation.assigned" and f["event_id"] == str(assignment.event_id)
        )
        assert {str(single), str(batched)} <= {m["id"] for m in carried["messages"]}

        # The broker returns: the same events again, after the assignment; and a publisher's retry of each
        # (another event, the same message).
        again: list[Event] = [first_single, message_event(single)]
        for event in again:
            await timeline.handle(event, record())
        await timeline.handle_messages([(first_batched, record()), (message_event(batched), record())])

        # A later message marks where the stream stands: everything pushed before it has arrived.
        later = await client.post("/api/v1/widget/messages", json={"text": "later"}, headers=visitor_headers)
        later_id = later.json()["message_id"]
        await agent.wait_for(lambda f: f["type"] == "message.created" and f["message"]["id"] == later_id)
        assert shown(agent, single) == 1
        assert shown(agent, batched) == 1
        async with res.engine.connect() as connection:
            stored = await connection.scalar(
                text("SELECT count(*) FROM messages WHERE account_id = :account AND id IN (:a, :b)"),
                {"account": tenant.account_id, "a": single, "b": batched},
            )
        assert stored == 2
        await agent.close()


async def test_a_run_of_routing_events_reads_per_account_and_updates_only_agents_with_a_socket(
    system: LiveServer,
) -> None:
    """A poll's routing events are read together: the statements for three assignments are the statements for
    one (not three to eight per event). ``conversation.updated`` reaches the seers who have a socket (the agent),
    not those who have none (the owner here), in the batch and in the one-by-one path alike."""
    async with httpx.AsyncClient(base_url=system.url, timeout=30) as client:
        tenant = await signup(client)
        inbox = await create_web_inbox(client, tenant)
        agent_id, _token, agent = await online_agent(client, system, tenant)
        conversation_ids = []
        for n in range(3):
            visitor = await visitor_session(client, inbox["widget_token"])
            sent = await client.post(
                "/api/v1/widget/messages",
                json={"text": f"hello {n}"},
                headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
            )
            conversation_ids.append(uuid.UUID(sent.json()["conversation_id"]))
        for conversation_id in conversation_ids:
            await agent.wait_for(
                lambda f, c=conversation_id: f["type"] == "conversation.assigned" and f["conversation_id"] == str(c)
            )
        res = system.resources("gateway")
        timeline = Timeline(res)
        account_id = uuid.UUID(tenant.account_id)

        def assigned(conversation_id: uuid.UUID) -> ConversationAssigned:
            return ConversationAssigned(
                tenant_id=account_id,
                conversation_id=conversation_id,
                payload=ConversationAssignedPayload(
                    agent_id=uuid.UUID(agent_id), inbox_id=uuid.UUID(inbox["id"]), strategy="manual", reason="manual"
                ),
            )

        async def reads_of(events: list[Event]) -> int:
            """The SELECTs this task sends while the batch handler takes ``events`` (the live consumers' are not
            counted)."""
            me = asyncio.current_task()
            selects: list[str] = []

            def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
                if asyncio.current_task() is me and statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    selects.append(statement)

            sqlalchemy_event.listen(res.engine.sync_engine, "before_cursor_execute", note)
            try:
                await timeline.handle_batch([(e, record()) for e in events])
            finally:
                sqlalchemy_event.remove(res.engine.sync_engine, "before_cursor_execute", note)
            return len(selects)

        one = [assigned(conversation_ids[0])]
        three = [assigned(c) for c in conversation_ids]
        assert await reads_of(one) == await reads_of(three)
        for event in [*one, *three]:
            for kind in ("conversation.assigned", "conversation.updated"):
                await agent.wait_for(lambda f, e=event, k=kind: f["type"] == k and f["event_id"] == str(e.event_id))
        # One by one, too: the socket gets the update, the owner (no socket) does not.
        resolved = ConversationStatusChanged(
            tenant_id=account_id,
            conversation_id=conversation_ids[0],
            payload=ConversationStatusPayload(inbox_id=uuid.UUID(inbox["id"]), status="resolved"),
        )
        await timeline.handle(resolved, record())
        await agent.wait_for(lambda f: f["type"] == "conversation.updated" and f["event_id"] == str(resolved.event_id))
        owners = [
            json.loads(fields["data"])
            for _id, fields in await res.redis.xrange(res.keys.agent_stream(uuid.UUID(tenant.owner_id)))
        ]
        sent_ids = {str(e.event_id) for e in [*one, *three, resolved]}
        assert not [f for f in owners if f.get("event_id") in sent_ids], owners
        await agent.close()
