"""The queue's heartbeat: drains every account that has waiting conversations (a safety net for capacity
that appears without an event: a raised limit, a new team member, business hours opening) and pushes each
waiting visitor their live position and estimated wait (``queue.position`` frames on the contact stream)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.conversations.models import Conversation, RoutingHistory
from switchboard_common.infra import metrics
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.runtime import Resources

from switchboard_router.assignment import drain_queue

log = structlog.get_logger(__name__)
DEFAULT_SECONDS_PER_PLACE = 60.0
ESTIMATE_WINDOW = timedelta(minutes=15)


async def seconds_per_place(res: Resources, account_id: uuid.UUID, now: datetime) -> float:
    """How long the queue takes to move by one place lately (assignments per second, inverted)."""
    async with res.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).where(
                RoutingHistory.account_id == account_id,
                RoutingHistory.action == "assigned",
                RoutingHistory.created_at > now - ESTIMATE_WINDOW,
            )
        )
    if not count:
        return DEFAULT_SECONDS_PER_PLACE
    return ESTIMATE_WINDOW.total_seconds() / count


async def publish_positions(res: Resources, account_id: uuid.UUID, *, now: datetime | None = None) -> int:
    """Pushes a frame to every waiting visitor whose position changed; returns how many were pushed."""
    now = now or utcnow()
    async with res.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Conversation.id, Conversation.contact_id, Conversation.assignment_version)
                .where(*routing.queued_filter(account_id))
                .order_by(*routing.QUEUE_ORDER)
            )
        ).all()
    metrics.QUEUE_LENGTH.labels(str(account_id)).set(len(rows))
    if not rows:
        return 0
    pace = await seconds_per_place(res, account_id, now)
    seen_key = res.keys.queue_positions(account_id)
    seen = await res.redis.hgetall(seen_key)
    pushed = 0
    for index, row in enumerate(rows):
        position = index + 1
        if seen.get(str(row.id)) == str(position):
            continue
        await res.streams.push_once(
            res.keys.contact_stream(row.contact_id),
            f"queue:{row.id}:{row.assignment_version}:{position}",
            {
                "type": "queue.position",
                "conversation_id": str(row.id),
                "position": position,
                "estimated_wait_seconds": round(position * pace),
            },
        )
        pushed += 1
    async with res.redis.pipeline(transaction=True) as pipe:
        pipe.delete(seen_key)
        pipe.hset(seen_key, mapping={str(row.id): str(i + 1) for i, row in enumerate(rows)})
        pipe.expire(seen_key, 3600)
        await pipe.execute()
    return pushed


async def accounts_with_queue(res: Resources, limit: int = 1000) -> list[uuid.UUID]:
    async with res.sessionmaker() as session:
        return list(
            (
                await session.scalars(
                    select(Conversation.account_id)
                    .where(Conversation.status == "open", Conversation.assignee_id.is_(None))
                    .distinct()
                    .limit(limit)
                )
            ).all()
        )


class QueueTicker(PeriodicWorker):
    name = "router-queue"

    def __init__(self, res: Resources, *, interval: float = 1.0) -> None:
        super().__init__(interval)
        self.res = res

    async def tick(self) -> None:
        for account_id in await accounts_with_queue(self.res):
            if self.stopping:
                return
            await drain_queue(self.res, account_id)
            await publish_positions(self.res, account_id)
