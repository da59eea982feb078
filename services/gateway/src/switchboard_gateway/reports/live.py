"""The live floor: queue length and longest wait per inbox and team, agents online and away with their load.

Read from the current state (conversations, presence), not the rollups: it is now, not history. Whatever may
change it (a routing event, a presence change) marks the account in a Redis set; :class:`LiveFloorPublisher`
recomputes marked accounts every second and pushes a ``reports.live`` frame to the account's owners and admins
when it differs from the last one pushed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account, Team, User
from switchboard_common.domain.accounts.tenancy import require_tenant, tenant_session
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.runtime import Resources

DIGEST_TTL_SECONDS = 24 * 3600


async def mark_changed(res: Resources, accounts: Iterable[uuid.UUID]) -> None:
    members = [str(a) for a in accounts]
    if members:
        await res.redis.sadd(res.keys.live_floor_changed(), *members)


def _wait(since: datetime | None, now: datetime) -> float | None:
    return round((now - since).total_seconds(), 1) if since is not None else None


async def snapshot(res: Resources, session: AsyncSession, account_id: uuid.UUID) -> dict[str, Any]:
    """The account's live floor, read in a session scoped to it."""
    require_tenant(session, account_id)
    now = utcnow()
    account = await session.get(Account, account_id)
    inboxes = {row.id: row for row in (await session.scalars(select(Inbox))).all()}
    teams = dict((await session.execute(select(Team.id, Team.name))).all())
    waiting = (
        await session.execute(
            select(
                Conversation.inbox_id,
                Conversation.team_id,
                func.count(),
                func.min(func.coalesce(Conversation.queued_at, Conversation.created_at)),
            )
            .where(*routing.queued_filter())
            .group_by(Conversation.inbox_id, Conversation.team_id)
        )
    ).all()
    by_inbox: dict[uuid.UUID, list[Any]] = {}
    by_team: dict[uuid.UUID | None, list[Any]] = {}
    for inbox_id, team_id, count, oldest in waiting:
        team = team_id or routing.routed_team_id_of_inbox(inboxes.get(inbox_id))
        for entry in (by_inbox.setdefault(inbox_id, [0, None]), by_team.setdefault(team, [0, None])):
            entry[0] += count
            entry[1] = oldest if entry[1] is None or oldest < entry[1] else entry[1]
    users = (
        await session.execute(
            select(User.id, User.name, User.role, User.max_conversations).where(User.deleted_at.is_(None))
        )
    ).all()
    statuses = await presence.get_statuses(res.redis, res.keys, account_id)
    weights = routing.account_routing(account)["channel_weights"]
    loads = await routing.agent_loads(session, account_id, [u.id for u in users], weights)
    agents = [
        {
            "agent_id": str(u.id),
            "name": u.name,
            "status": statuses.get(u.id, "offline"),
            "load": round(loads.get(u.id, (0.0, 0))[0], 2),
            "conversations": loads.get(u.id, (0.0, 0))[1],
            "capacity": routing.capacity_of(u.max_conversations, account),
        }
        for u in sorted(users, key=lambda u: (u.name, str(u.id)))
    ]
    return {
        "generated_at": now.isoformat(),
        "queue": {
            "length": sum(entry[0] for entry in by_inbox.values()),
            "longest_wait_seconds": _wait(min((e[1] for e in by_inbox.values()), default=None), now),
        },
        "inboxes": [
            {
                "inbox_id": str(inbox_id),
                "name": inbox.name,
                "channel": inbox.channel,
                "queued": by_inbox.get(inbox_id, [0, None])[0],
                "oldest_waiting_since": _iso(by_inbox.get(inbox_id, [0, None])[1]),
                "longest_wait_seconds": _wait(by_inbox.get(inbox_id, [0, None])[1], now),
            }
            for inbox_id, inbox in sorted(inboxes.items(), key=lambda item: item[1].name)
        ],
        "teams": [
            {
                "team_id": str(team_id) if team_id else None,
                "name": teams.get(team_id) if team_id else None,
                "queued": entry[0],
                "oldest_waiting_since": _iso(entry[1]),
                "longest_wait_seconds": _wait(entry[1], now),
            }
            for team_id, entry in sorted(by_team.items(), key=lambda item: str(item[0]))
        ]
        + [
            {
                "team_id": str(team_id),
                "name": name,
                "queued": 0,
                "oldest_waiting_since": None,
                "longest_wait_seconds": None,
            }
            for team_id, name in sorted(teams.items(), key=lambda item: item[1])
            if team_id not in by_team
        ],
        "agents": agents,
        "agents_online": sum(1 for a in agents if a["status"] == "online"),
        "agents_away": sum(1 for a in agents if a["status"] == "away"),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def digest(snap: dict[str, Any]) -> str:
    """What the admins see change (not the clock: waits grow on their screens from ``oldest_waiting_since``)."""
    stable = {k: v for k, v in snap.items() if k != "generated_at"}
    stable["queue"] = {"length": snap["queue"]["length"]}
    for key in ("inboxes", "teams"):
        stable[key] = [{k: v for k, v in e.items() if k != "longest_wait_seconds"} for e in snap[key]]
    return hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()


async def publish(res: Resources, account_id: uuid.UUID) -> bool:
    """Pushes the account's live floor to its owners and admins if it changed; returns whether it did."""
    async with tenant_session(res.sessionmaker, account_id) as session:
        snap = await snapshot(res, session, account_id)
        admins = (
            await session.scalars(select(User.id).where(User.deleted_at.is_(None), User.role.in_(("owner", "admin"))))
        ).all()
    value = digest(snap)
    key = res.keys.live_floor_digest(account_id)
    if await res.redis.get(key) == value:
        return False
    await res.redis.set(key, value, ex=DIGEST_TTL_SECONDS)
    await res.streams.push_once_to_each(
        [res.keys.agent_stream(admin) for admin in admins],
        f"live:{value}",
        {"type": "reports.live", **snap},
    )
    return True


class LiveFloorPublisher(PeriodicWorker):
    name = "reports-live-floor"

    def __init__(self, res: Resources, *, interval: float = 1.0, per_tick: int = 200) -> None:
        super().__init__(interval)
        self.res = res
        self.per_tick = per_tick

    async def tick(self) -> int:
        accounts = await self.res.redis.spop(self.res.keys.live_floor_changed(), self.per_tick)
        pushed = 0
        for account in accounts or []:
            if await publish(self.res, uuid.UUID(account)):
                pushed += 1
        return pushed
