"""Transactional outbox: state change and event commit together; publishing follows."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard_common.bus import EventBus
from switchboard_common.db.base import utcnow
from switchboard_common.db.models import OutboxEvent
from switchboard_common.events import Event, parse_event, serialize_event
from switchboard_common.periodic import PeriodicWorker

log = structlog.get_logger(__name__)


def add_events(session: AsyncSession, events: Sequence[Event]) -> None:
    """Stage events in the caller's transaction."""
    for event in events:
        session.add(OutboxEvent(event_id=event.event_id, body=serialize_event(event)))


async def publish_staged(
    sessionmaker: async_sessionmaker[AsyncSession], bus: EventBus, events: Sequence[Event]
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
            await session.execute(delete(OutboxEvent).where(OutboxEvent.event_id.in_([e.event_id for e in events])))
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
            await self.bus.publish_many([parse_event(row.body) for row in rows])
            await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_([row.id for row in rows])))
            return len(rows)
