"""Router replicas as separate apps on one database and broker, seeded conversations, and where they were placed."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select, text
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.conversations.models import Conversation, RoutingHistory
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationCreatedPayload,
    parse_event,
)
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.service import BackgroundWorkers
from switchboard_devstack.servers import StackUrls
from switchboard_router.app import background_workers
from switchboard_router.bench import Seed
from switchboard_router.settings import RouterSettings


def router_settings(urls: StackUrls, namespace: str) -> RouterSettings:
    return RouterSettings(
        environment="test",
        database_url=urls.database_url,
        redis_url=urls.redis_url,
        kafka_bootstrap_servers=urls.kafka_bootstrap_servers,
        kafka_namespace=namespace,
        redis_namespace=namespace,
        kafka_topic_partitions=6,
        db_pool_size=5,
        router_queue_interval_seconds=1.0,
        router_timer_interval_seconds=0.5,
    )


class Replica:
    def __init__(self, res: Resources, workers: BackgroundWorkers) -> None:
        self.res = res
        self.workers = workers

    async def kill(self) -> None:
        """Abrupt: the consumer task dies mid-event and its Kafka consumer closes without committing."""
        consumer = self.workers.workers[0]
        assert consumer._task is not None
        consumer._task.cancel()
        with contextlib.suppress(BaseException):
            await consumer._task
        if consumer._consumer is not None:
            await consumer._consumer.stop()
            consumer._consumer = None
        consumer._task = None
        await self.stop()

    async def stop(self) -> None:
        await self.workers.stop()
        await self.res.close()


@contextlib.asynccontextmanager
async def replicas(urls: StackUrls, count: int = 3) -> AsyncIterator[list[Replica]]:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    started: list[Replica] = []
    try:
        for _ in range(count):
            res = await Resources.open(router_settings(urls, namespace), event_codec)
            workers = background_workers(res)
            await workers.start()
            started.append(Replica(res, workers))
        yield started
    finally:
        for replica in started:
            with contextlib.suppress(Exception):
                await replica.stop()


async def publish_created(res: Resources, seed: Seed, conversation_ids: list[uuid.UUID]) -> None:
    async with cross_tenant_session(res.sessionmaker) as session:
        contacts = dict(
            (
                await session.execute(
                    select(Conversation.id, Conversation.contact_id).where(Conversation.id.in_(conversation_ids))
                )
            ).all()
        )
    await res.bus.publish_many(
        [
            ConversationCreated(
                tenant_id=seed.account_id,
                conversation_id=c,
                payload=ConversationCreatedPayload(inbox_id=seed.inbox_id, contact_id=contacts[c], channel="web"),
            )
            for c in conversation_ids
        ]
    )


async def wait_until(predicate, timeout: float, interval: float = 0.2) -> None:  # type: ignore[no-untyped-def]
    async def loop() -> None:
        while not await predicate():
            await asyncio.sleep(interval)

    await asyncio.wait_for(loop(), timeout)


async def placement(res: Resources, account_id: uuid.UUID) -> Counter[str]:
    async with cross_tenant_session(res.sessionmaker) as session:
        rows = (
            await session.execute(
                select(Conversation.assignee_id.is_not(None), Conversation.queued_at.is_not(None), func.count())
                .where(Conversation.account_id == account_id)
                .group_by(Conversation.assignee_id.is_not(None), Conversation.queued_at.is_not(None))
            )
        ).all()
    placed: Counter[str] = Counter()
    for assigned, queued, count in rows:
        placed["assigned" if assigned else "queued" if queued else "unplaced"] += count
    return placed


LOAD_SQL = text(
    """
    SELECT u.id, coalesce(u.max_conversations, a.default_max_conversations) AS capacity,
           (SELECT count(*) FROM conversations c
             WHERE c.assignee_id = u.id AND c.status IN ('open', 'pending', 'snoozed')) AS held
      FROM users u JOIN accounts a ON a.id = u.account_id
     WHERE u.account_id = :account
    """
)


class CapacityMonitor:
    """Samples every agent's load against their capacity until stopped; remembers any violation."""

    def __init__(self, res: Resources, account_id: uuid.UUID) -> None:
        self.res = res
        self.account_id = account_id
        self.violations: list[tuple[uuid.UUID, int, int]] = []
        self.samples = 0
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            async with cross_tenant_session(self.res.sessionmaker) as session:
                for agent_id, capacity, held in (await session.execute(LOAD_SQL, {"account": self.account_id})).all():
                    if held > capacity:
                        self.violations.append((agent_id, held, capacity))
            self.samples += 1
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def assigned_events(settings: RouterSettings, account_id: uuid.UUID, expected: int) -> dict[uuid.UUID, set]:
    """Every distinct conversation.assigned event id per conversation, read from the topic itself."""
    consumer = AIOKafkaConsumer(
        settings.topic(CONVERSATIONS_TOPIC),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: dict[uuid.UUID, set] = defaultdict(set)
    try:
        async with asyncio.timeout(30):
            while len(found) < expected:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        event = parse_event(record.value)
                        if isinstance(event, ConversationAssigned) and event.tenant_id == account_id:
                            found[event.conversation_id].add(event.event_id)
    finally:
        await consumer.stop()
    return found


async def check_exactly_once(res: Resources, seed: Seed, conversations: list[uuid.UUID]) -> None:
    async with cross_tenant_session(res.sessionmaker) as session:
        per_conversation = Counter(
            (
                await session.scalars(
                    select(RoutingHistory.conversation_id).where(
                        RoutingHistory.account_id == seed.account_id, RoutingHistory.action == "assigned"
                    )
                )
            ).all()
        )
    assert set(per_conversation) == set(conversations)
    assert max(per_conversation.values()) == 1, "a conversation was assigned twice"
    events = await assigned_events(res.settings, seed.account_id, len(conversations))  # type: ignore[arg-type]
    assert set(events) == set(conversations)
    assert all(len(ids) == 1 for ids in events.values()), "two different assignment events for one conversation"
