"""Due time from outside the writers: an operator's (or a test's) clock for routing timers, and the presence
grace period.

Routing timers (offers, snooze, no-reply, auto-resolve, escalation, business hours; rows in
``routing_timers``) belong to their account's writer, which holds them in memory and fires them when due
(switchboard_router.writer). :func:`run_due_timers` asks each account's writer to fire what is due at a given
time and waits for it: tests drive time with it. The grace period is Redis state shared by every replica
(a dropped socket is not a logout); any replica may end it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy import select
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.conversations import commands, routing
from switchboard_common.domain.conversations.models import RoutingTimer
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.runtime import Resources


async def run_due_timers(res: Resources, now: datetime | None = None, *, timeout: float = 30.0) -> int:
    """Fires every timer due at ``now`` (each by its account's writer); returns how many fired."""
    now = now or utcnow()
    async with res.sessionmaker() as session:
        accounts = (
            # Due timers of every account: each goes to its account's writer.
            await session.scalars(
                cross_tenant(select(RoutingTimer.account_id).where(RoutingTimer.due_at <= now).distinct())
            )
        ).all()
    results = await asyncio.gather(
        *(commands.send(res, account_id, "fire_timers", now=now, timeout=timeout) for account_id in accounts)
    )
    return sum(int(result.data.get("fired", 0)) for result in results)


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
        await commands.announce_presence(res, tenant_id, agent_id, "offline")
        went_offline += 1
    return went_offline


async def grace_seconds(res: Resources, account_id: uuid.UUID) -> float:
    async with res.sessionmaker() as session:
        return float(routing.account_routing(await session.get(Account, account_id))["grace_seconds"])


class PresenceWorker(PeriodicWorker):
    """Ends grace periods every ``interval`` seconds."""

    name = "router-presence"

    def __init__(self, res: Resources, *, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.res = res

    async def tick(self) -> int:
        return await run_due_presence(self.res)
