"""Due-time work, safe with several router replicas: offers, snooze wake-up, no-reply, auto-resolve,
escalation, business-hours opening (rows in ``routing_timers``) and the presence grace period (Redis).

A replica leases due rows with ``FOR UPDATE SKIP LOCKED`` (pushing ``due_at`` a lease ahead) and commits,
then handles each one under the account lock, re-checking the row: a timer rescheduled or cancelled
meanwhile does nothing; a replica dying mid-way leaves a lease that expires and is retried. The clock is a
parameter, so tests drive time.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.conversations import lifecycle, routing
from switchboard_common.domain.conversations.models import Conversation, RoutingTimer
from switchboard_common.domain.events import AgentPresenceChanged, AgentPresencePayload, Event
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db import transaction
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.outbox import add_events, publish_staged
from switchboard_common.infra.runtime import Resources

from switchboard_router.assignment import route_conversation

log = structlog.get_logger(__name__)
LEASE = timedelta(seconds=30)
Clock = Callable[[], datetime]


async def _lease(res: Resources, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    async with transaction(res.sessionmaker) as session:
        rows = (
            await session.scalars(
                select(RoutingTimer)
                .where(RoutingTimer.due_at <= now)
                .order_by(RoutingTimer.due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        leased = []
        for row in rows:
            row.due_at = now + LEASE
            leased.append((row.id, row.due_at))
    return leased


async def run_due_timers(res: Resources, now: datetime | None = None, *, limit: int = 100) -> int:
    """Handles every timer due at ``now``; returns how many fired."""
    now = now or utcnow()
    fired = 0
    for timer_id, leased_until in await _lease(res, now, limit):
        if await _fire(res, timer_id, leased_until, now):
            fired += 1
    return fired


async def _fire(res: Resources, timer_id: int, leased_until: datetime, now: datetime) -> bool:
    events: list[Event] = []
    route_after: tuple[uuid.UUID, uuid.UUID] | None = None
    async with transaction(res.sessionmaker) as session:
        timer = await session.get(RoutingTimer, timer_id)
        if timer is None:
            return False
        await routing.lock_account(session, timer.account_id)
        await session.refresh(timer)
        if timer.due_at != leased_until:
            return False  # rescheduled meanwhile: the new due time decides
        conversation = await session.get(Conversation, timer.conversation_id)
        due = lifecycle.Timer(timer.kind, timer.due_at, timer.agent_id, timer.version)
        await session.delete(timer)
        await session.flush()
        if conversation is None:
            return True
        inbox = await session.get(Inbox, conversation.inbox_id)
        state = await routing.load_state(session, conversation)
        if due.kind == "offer":
            state = replace(state, offer=lifecycle.Offer(due.agent_id, due.due_at)) if due.agent_id else state
        outcome = lifecycle.fire(state, due, lifecycle.TimerContext(now=now, inbox=routing.inbox_routing(inbox)))
        events = await routing.apply_outcome(session, conversation, outcome)
        if outcome.route:
            route_after = (conversation.account_id, conversation.id)
        add_events(session, events)
    await publish_staged(res.sessionmaker, res.bus, events)
    if route_after is not None:
        await route_conversation(res, *route_after, now=now)
    return True


async def run_due_presence(res: Resources, now: float | None = None) -> int:
    """Agents whose grace period ended without a reconnect go offline (which may give back their work)."""
    went_offline = 0
    for tenant_id, agent_id in await presence.claim_due_offline(res.redis, res.keys, now=now):
        if await presence.live_connections(res.redis, res.keys, agent_id, now=now) > 0:
            continue
        statuses = await presence.get_statuses(res.redis, res.keys, tenant_id)
        if statuses.get(agent_id) != "online":
            continue
        await presence.set_status(res.redis, res.keys, tenant_id, agent_id, "offline")
        await res.bus.publish(
            AgentPresenceChanged(tenant_id=tenant_id, payload=AgentPresencePayload(agent_id=agent_id, status="offline"))
        )
        went_offline += 1
    return went_offline


async def grace_seconds(res: Resources, account_id: uuid.UUID) -> float:
    async with res.sessionmaker() as session:
        return float(routing.account_routing(await session.get(Account, account_id))["grace_seconds"])


class TimerWorker:
    """Polls for due timers and ended grace periods every ``interval`` seconds."""

    def __init__(self, res: Resources, *, interval: float = 0.5, clock: Clock = utcnow) -> None:
        self.res = res
        self.interval = interval
        self.clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="router-timers")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, 10)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                now = self.clock()
                await run_due_timers(self.res, now)
                await run_due_presence(self.res, now.timestamp())
            except Exception as exc:
                log.warning("router_timers_error", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)
