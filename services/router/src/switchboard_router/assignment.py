"""Assignment decisions (router v0: least busy online agent with free capacity, else the queue).

Every decision for one account runs under a transaction-scoped advisory lock on the account, so any
number of router replicas, in any interleaving, never put an agent over capacity nor assign twice.
The decision and its event commit together (outbox); the event id is derived from the conversation's
assignment version, so a replay after a crash republishes the same event rather than a new one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common import metrics, presence
from switchboard_common.db import transaction
from switchboard_common.db.base import utcnow
from switchboard_common.db.models import Account, Conversation, User
from switchboard_common.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    ConversationQueued,
    ConversationQueuedPayload,
    Event,
)
from switchboard_common.outbox import add_events, publish_staged
from switchboard_common.runtime import Resources

DECISION_NAMESPACE = uuid.UUID("0c6a9a57-3d0f-4f55-8a8e-3f9b7f1a2d64")
STRATEGY = "least_busy"
ACTIVE_STATUSES = ("open", "pending")


@dataclass
class Candidate:
    agent_id: uuid.UUID
    load: int
    capacity: int


@dataclass
class Decision:
    agent_id: uuid.UUID | None
    explanation: dict[str, Any] = field(default_factory=dict)


async def lock_account(session: AsyncSession, account_id: uuid.UUID) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(str(account_id)))))


async def candidates(session: AsyncSession, res: Resources, account_id: uuid.UUID) -> list[Candidate]:
    online = await presence.online_agents(res.redis, res.keys, account_id)
    if not online:
        return []
    default_capacity = await session.scalar(select(Account.default_max_conversations).where(Account.id == account_id))
    agents = (
        await session.execute(
            select(User.id, User.max_conversations).where(
                User.account_id == account_id, User.id.in_(list(online)), User.deleted_at.is_(None)
            )
        )
    ).all()
    loads = dict(
        (
            await session.execute(
                select(Conversation.assignee_id, func.count())
                .where(
                    Conversation.account_id == account_id,
                    Conversation.status.in_(ACTIVE_STATUSES),
                    Conversation.assignee_id.in_([a.id for a in agents]),
                )
                .group_by(Conversation.assignee_id)
            )
        ).all()
    )
    return [
        Candidate(
            agent_id=a.id,
            load=loads.get(a.id, 0),
            capacity=a.max_conversations if a.max_conversations is not None else (default_capacity or 0),
        )
        for a in agents
    ]


def choose(pool: list[Candidate]) -> Decision:
    free = [c for c in pool if c.load < c.capacity]
    explanation: dict[str, Any] = {
        "strategy": STRATEGY,
        "candidates": [{"agent_id": str(c.agent_id), "load": c.load, "capacity": c.capacity} for c in pool],
    }
    if not free:
        explanation["reason"] = "no_online_agent" if not pool else "all_agents_at_capacity"
        return Decision(agent_id=None, explanation=explanation)
    best = min(free, key=lambda c: (c.load, str(c.agent_id)))
    explanation["chosen"] = str(best.agent_id)
    return Decision(agent_id=best.agent_id, explanation=explanation)


def assigned_event(
    conversation: Conversation, agent_id: uuid.UUID, previous: uuid.UUID | None, explanation: dict[str, Any]
) -> ConversationAssigned:
    return ConversationAssigned(
        event_id=uuid.uuid5(DECISION_NAMESPACE, f"{conversation.id}:assigned:{conversation.assignment_version}"),
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=ConversationAssignedPayload(
            agent_id=agent_id,
            previous_agent_id=previous,
            inbox_id=conversation.inbox_id,
            strategy=STRATEGY,
            explanation=explanation,
        ),
    )


async def _place(
    session: AsyncSession, res: Resources, conversation: Conversation, pool: list[Candidate]
) -> Event | None:
    decision = choose(pool)
    now = utcnow()
    if decision.agent_id is not None:
        conversation.assignee_id = decision.agent_id
        conversation.assignment_version += 1
        if conversation.queued_at is not None:
            metrics.QUEUE_WAIT_SECONDS.observe((now - conversation.queued_at).total_seconds())
        conversation.queued_at = None
        conversation.routing_explanation = decision.explanation
        for c in pool:
            if c.agent_id == decision.agent_id:
                c.load += 1
        metrics.ASSIGNMENTS.labels(STRATEGY, "assigned").inc()
        return assigned_event(conversation, decision.agent_id, None, decision.explanation)
    if conversation.queued_at is None:
        conversation.queued_at = now
        conversation.routing_explanation = decision.explanation
        metrics.ASSIGNMENTS.labels(STRATEGY, "queued").inc()
        return ConversationQueued(
            event_id=uuid.uuid5(DECISION_NAMESPACE, f"{conversation.id}:queued:{conversation.assignment_version}"),
            tenant_id=conversation.account_id,
            conversation_id=conversation.id,
            payload=ConversationQueuedPayload(
                inbox_id=conversation.inbox_id,
                reason=decision.explanation.get("reason", "no_capacity"),
                explanation=decision.explanation,
            ),
        )
    return None


async def route_conversation(res: Resources, account_id: uuid.UUID, conversation_id: uuid.UUID) -> Event | None:
    """Places one conversation: assigned, or queued. Idempotent: an assigned one is left alone."""
    async with transaction(res.sessionmaker) as session:
        await lock_account(session, account_id)
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id, Conversation.account_id == account_id)
        )
        if conversation is None or conversation.status != "open" or conversation.assignee_id is not None:
            return None
        event = await _place(session, res, conversation, await candidates(session, res, account_id))
        if event is not None:
            add_events(session, [event])
    if event is not None:
        await publish_staged(res.sessionmaker, res.bus, [event])
    return event


async def drain_queue(res: Resources, account_id: uuid.UUID, batch: int = 100) -> int:
    """Assigns waiting conversations, highest priority then oldest first, while capacity lasts."""
    assigned_total = 0
    while True:
        events: list[Event] = []
        async with transaction(res.sessionmaker) as session:
            await lock_account(session, account_id)
            pool = await candidates(session, res, account_id)
            if not any(c.load < c.capacity for c in pool):
                break
            waiting = (
                await session.scalars(
                    select(Conversation)
                    .where(
                        Conversation.account_id == account_id,
                        Conversation.status == "open",
                        Conversation.assignee_id.is_(None),
                    )
                    .order_by(
                        Conversation.priority.desc(),
                        func.coalesce(Conversation.queued_at, Conversation.created_at),
                        Conversation.id,
                    )
                    .limit(batch)
                )
            ).all()
            for conversation in waiting:
                if not any(c.load < c.capacity for c in pool):
                    break
                event = await _place(session, res, conversation, pool)
                if event is not None:
                    events.append(event)
            add_events(session, events)
        await publish_staged(res.sessionmaker, res.bus, events)
        assigned = sum(isinstance(e, ConversationAssigned) for e in events)
        assigned_total += assigned
        if assigned == 0 or len(waiting) < batch:
            break
    return assigned_total
