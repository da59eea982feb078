"""Router replicas as separate apps on one database and broker, seeded conversations, and where they were placed."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator

from sqlalchemy import func, select
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.domain.events import (
    ConversationCreated,
    ConversationCreatedPayload,
)
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
