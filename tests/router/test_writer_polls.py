"""What one poll of routing records costs the writer: many agents created or coming online at once (an admin
creating a team through the API, a contact center opening in the morning) are read in one go, not once each."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import TopicPartition
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.domain.events import ConversationCreated, ConversationCreatedPayload
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.outbox import OutboxEvent, add_events
from switchboard_common.infra.runtime import Resources
from switchboard_devstack.servers import StackUrls
from switchboard_router import store
from switchboard_router.bench import Seed, seed_account
from switchboard_router.writer import Item, RoutingWriter

from tests.helpers.router import router_settings


@pytest.fixture
async def res(stack_urls: StackUrls) -> AsyncIterator[Resources]:
    resources = await Resources.open(router_settings(stack_urls, f"t{uuid.uuid4().hex[:10]}"), event_codec)
    try:
        yield resources
    finally:
        await resources.close()


async def add_agents(res: Resources, seed: Seed, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    async with res.sessionmaker() as session, session.begin():
        for agent_id in ids:
            session.add(
                User(
                    id=agent_id,
                    account_id=seed.account_id,
                    email=f"{agent_id.hex}@poll.invalid",
                    name="agent",
                    password_hash="!",  # not a hash: nobody logs in
                    role="agent",
                    max_conversations=3,
                )
            )
    return ids


async def test_a_poll_of_settings_refreshes_reads_the_account_once(res: Resources) -> None:
    """Every agent created through the API sends a refresh: a poll holding many of them reads the account's
    agents once (reading them once per refresh made creating n agents cost n full reloads), and every agent
    created before the poll is known afterwards with their capacity."""
    seed = await seed_account(res, capacities=[2])
    account = await store.load_account(res, seed.account_id, 1, None, utcnow())
    created = await add_agents(res, seed, 5)
    items = [
        Item(seed.account_id, TopicPartition("routing", 0), offset, commands.command(seed.account_id, "refresh"))
        for offset in range(len(created))
    ]
    reads: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "FROM users" in statement:
            reads.append(statement)

    sqlalchemy_event.listen(res.engine.sync_engine, "before_cursor_execute", record)
    try:
        await RoutingWriter(res)._apply(account, items, utcnow())
    finally:
        sqlalchemy_event.remove(res.engine.sync_engine, "before_cursor_execute", record)
    assert len(reads) == 1, reads
    assert set(created) <= set(account.agents)
    assert all(account.agents[a].capacity == 3 for a in created)
    assert account.applied_offset == len(created) - 1


async def test_published_events_leave_the_outbox_by_one_statement_whatever_their_number(res: Resources) -> None:
    """After publishing a committed batch the writer removes its events from the outbox with the same SQL for one
    event and for three (an IN list was new SQL for every batch size: parsed, planned and prepared again each
    time), and the outbox keeps nothing it published."""
    seed = await seed_account(res, capacities=[1])
    events = [
        ConversationCreated(
            tenant_id=seed.account_id,
            conversation_id=uuid.uuid4(),
            payload=ConversationCreatedPayload(inbox_id=seed.inbox_id, contact_id=uuid.uuid4(), channel="web"),
        )
        for _ in range(4)
    ]
    async with res.sessionmaker() as session, session.begin():
        add_events(session, events)
    deletes: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM OUTBOX_EVENTS"):
            deletes.append(statement)

    writer = RoutingWriter(res)
    sqlalchemy_event.listen(res.engine.sync_engine, "before_cursor_execute", record)
    try:
        await writer._publish(list(events[:1]))
        await writer._publish(list(events[1:]))
    finally:
        sqlalchemy_event.remove(res.engine.sync_engine, "before_cursor_execute", record)
    assert len(deletes) == 2 and deletes[0] == deletes[1], deletes
    async with res.sessionmaker() as session:
        left = await session.scalar(select(func.count()).where(OutboxEvent.event_id.in_([e.event_id for e in events])))
    assert left == 0
