"""Routing decisions per second for one replica, against real servers (``make bench`` calls :func:`measure`).

``python -m switchboard_router.bench --decisions 2000`` uses DATABASE_URL / REDIS_URL / KAFKA_BOOTSTRAP_SERVERS
(a migrated database). It seeds a throwaway account with online agents and open conversations, then times
``route_conversation`` (lock, candidates from Redis and Postgres, decision, state + outbox commit, publish
with acks=all) one after another, as one replica's consumer does. The seeding helpers are shared with tests.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account, User
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.domain.events import AgentPresenceChanged, AgentPresencePayload
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources

from switchboard_router.assignment import route_conversation
from switchboard_router.settings import RouterSettings


@dataclass
class Seed:
    account_id: uuid.UUID
    inbox_id: uuid.UUID
    agent_ids: list[uuid.UUID]


async def seed_account(
    res: Resources,
    *,
    capacities: Sequence[int],
    routing_settings: dict[str, Any] | None = None,
    inbox_routing: dict[str, Any] | None = None,
) -> Seed:
    """An account with one web inbox and one agent per capacity (all offline)."""
    account_id, inbox_id = uuid.uuid4(), uuid.uuid4()
    agent_ids = [uuid.uuid4() for _ in capacities]
    async with res.sessionmaker() as session, session.begin():
        session.add(
            Account(
                id=account_id,
                name="bench",
                status="active",
                default_max_conversations=5,
                settings={"routing": routing_settings or {}},
            )
        )
        await session.flush()
        session.add(
            Inbox(
                id=inbox_id, account_id=account_id, name="web", channel="web", settings={}, routing=inbox_routing or {}
            )
        )
        for agent_id, capacity in zip(agent_ids, capacities, strict=True):
            session.add(
                User(
                    id=agent_id,
                    account_id=account_id,
                    email=f"{agent_id.hex}@bench.invalid",
                    name="agent",
                    password_hash="!",  # noqa: S106 - not a hash: nobody can log in with it
                    role="agent",
                    max_conversations=capacity,
                )
            )
    return Seed(account_id, inbox_id, agent_ids)


async def create_conversations(res: Resources, seed: Seed, count: int) -> list[uuid.UUID]:
    """Open, unrouted conversations (one contact each), inserted in bulk."""
    now = utcnow()
    contacts = [uuid.uuid4() for _ in range(count)]
    conversations = [uuid.uuid4() for _ in range(count)]
    async with res.sessionmaker() as session, session.begin():
        if count:
            await session.execute(
                insert(Contact), [{"id": c, "account_id": seed.account_id, "created_at": now} for c in contacts]
            )
            await session.execute(
                insert(Conversation),
                [
                    {
                        "id": conversation_id,
                        "account_id": seed.account_id,
                        "inbox_id": seed.inbox_id,
                        "contact_id": contact_id,
                        "channel": "web",
                        "status": "open",
                        "priority": 0,
                        "created_at": now,
                        "updated_at": now,
                        "routing_explanation": {},
                        "routing_requirements": {},
                        "assignment_version": 0,
                    }
                    for conversation_id, contact_id in zip(conversations, contacts, strict=True)
                ],
            )
    return conversations


async def set_online(res: Resources, account_id: uuid.UUID, agent_id: uuid.UUID, online: bool) -> None:
    """What the gateway does when an agent's socket opens (online) or they log off (offline)."""
    connection = f"bench-{agent_id.hex}"
    if online:
        await presence.add_connection(res.redis, res.keys, agent_id, connection)
        await presence.set_status(res.redis, res.keys, account_id, agent_id, "online")
    else:
        await presence.set_status(res.redis, res.keys, account_id, agent_id, "offline")
        await presence.remove_connection(res.redis, res.keys, agent_id, connection)
    await res.bus.publish(
        AgentPresenceChanged(
            tenant_id=account_id,
            payload=AgentPresencePayload(agent_id=agent_id, status="online" if online else "offline"),
        )
    )


async def measure(settings: RouterSettings, decisions: int = 1000, agents: int = 20) -> float:
    """Routing decisions per second of one replica (sequential, as its consumer handles one partition)."""
    res = await Resources.open(settings, event_codec)
    try:
        seed = await seed_account(res, capacities=[decisions] * agents)
        for agent_id in seed.agent_ids:
            await set_online(res, seed.account_id, agent_id, True)
        conversations = await create_conversations(res, seed, decisions)
        started = time.perf_counter()
        for conversation_id in conversations:
            await route_conversation(res, seed.account_id, conversation_id)
        elapsed = time.perf_counter() - started
        for agent_id in seed.agent_ids:
            await set_online(res, seed.account_id, agent_id, False)
        return decisions / elapsed
    finally:
        await res.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m switchboard_router.bench")
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=20)
    args = parser.parse_args()
    rate = asyncio.run(measure(RouterSettings(), args.decisions, args.agents))
    print(f"routing decisions per second (one replica): {rate:.0f}")


if __name__ == "__main__":
    main()
