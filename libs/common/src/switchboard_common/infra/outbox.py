"""Transactional outbox: state change and event commit together; publishing follows."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import BigInteger, LargeBinary, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.bus import BusEvent, EventBus
from switchboard_common.infra.db.base import Base, utcnow
from switchboard_common.infra.periodic import PeriodicWorker

log = structlog.get_logger(__name__)


class OutboxEvent(Base):
    """Events written in the same transaction as the state they announce (transactional outbox).

    Published right after commit; a relay publishes whatever a crash left behind, so a committed change
    always reaches Kafka. Consumers are idempotent by event id, so a double publish changes nothing.
    """

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# Published events leave the outbox by one statement whatever their number: an IN list of n ids is new SQL for each
# n, parsed, planned and prepared again (most of the router's publisher time while it worked off a drain).
FORGET_PUBLISHED = text("DELETE FROM outbox_events WHERE event_id = ANY(CAST(:ids AS uuid[]))")


async def forget_published(session: AsyncSession, event_ids: Sequence[uuid.UUID]) -> None:
    """Removes published events from the outbox (the relay need not send them)."""
    await session.execute(FORGET_PUBLISHED, {"ids": list(event_ids)})


def add_events(session: AsyncSession, events: Sequence[BusEvent]) -> None:
    """Stage events in the caller's transaction (plain JSON: the relay reads them back with the bus's codec)."""
    for event in events:
        session.add(OutboxEvent(event_id=event.event_id, body=event.model_dump_json().encode()))


async def publish_staged(
    sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus, events: Sequence[BusEvent]
) -> bool:
    """After commit: publish and forget. On failure the relay publishes later; returns whether sent now."""
    if not events:
        return True
    try:
        await bus.publish_many(events)
    except Exception as exc:
        log.warning("outbox_publish_deferred", error=type(exc).__name__, count=len(events))
        return False
    with contextlib.suppress(Exception):
        async with sessionmaker() as session, session.begin():
            await forget_published(session, [e.event_id for e in events])
    return True


class OutboxRelay(PeriodicWorker):
    """Publishes events a crash left in the outbox (older than ``grace`` so the inline path usually wins)."""

    name = "outbox-relay"

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        interval: float = 1.0,
        grace: timedelta = timedelta(seconds=5),
        batch: int = 200,
    ) -> None:
        super().__init__(interval)
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.grace = grace
        self.batch = batch

    async def tick(self) -> int:
        return await self.relay_once()

    async def relay_once(self) -> int:
        async with self.sessionmaker() as session, session.begin():
            rows = (
                (
                    await session.execute(
                        select(OutboxEvent)
                        .where(OutboxEvent.created_at < utcnow() - self.grace)
                        .order_by(OutboxEvent.id)
                        .limit(self.batch)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            if not rows:
                return 0
            await self.bus.publish_many([self.bus.codec.parse(row.body) for row in rows])
            await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_([row.id for row in rows])))
            return len(rows)
