"""Seeding for the routing benchmarks (bench/routing.py, run by ``make bench``) and the router's tests: accounts
with agents, conversations created in bulk, agents coming online, conversations announced as ingest does."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from switchboard_common.domain.accounts import presence
from switchboard_common.domain.accounts.models import Account, User
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import ConversationCreated, ConversationCreatedPayload
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources


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
    await commands.announce_presence(res, account_id, agent_id, "online" if online else "offline")


async def bring_online(res: Resources, seed: Seed, agent_ids: Sequence[uuid.UUID], *, chunk: int = 200) -> None:
    """Many agents come online (as their sockets connect), a chunk at a time side by side."""
    for start in range(0, len(agent_ids), chunk):
        await asyncio.gather(*(set_online(res, seed.account_id, a, True) for a in agent_ids[start : start + chunk]))


async def publish_created(res: Resources, seed: Seed, conversation_ids: Sequence[uuid.UUID]) -> None:
    """What ingest announces for new conversations (the router's feed forwards them to the account's writer)."""
    async with res.sessionmaker() as session:
        contacts = dict(
            (
                await session.execute(
                    select(Conversation.id, Conversation.contact_id).where(Conversation.id.in_(list(conversation_ids)))
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
