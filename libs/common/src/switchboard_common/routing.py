"""Routing primitives shared by the router and the gateway's manual actions (assign, claim, transfer, ...).

Every change of who holds a conversation runs under :func:`lock_account` (a transaction-scoped advisory
lock per account): the router replicas and the gateway serialise on it, so capacity is checked against the
committed state and never exceeded, and a claim race has exactly one winner. Each change stages its event
in the same transaction (outbox) with an id derived from ``assignment_version``: a replay republishes the
same event, which consumers recognise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.db.base import utcnow
from switchboard_common.db.models import (
    Account,
    AgentRoutingState,
    Conversation,
    Inbox,
    RoutingHistory,
    RoutingTimer,
    Team,
    User,
)
from switchboard_common.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    ConversationUnassigned,
    ConversationUnassignedPayload,
)

DECISION_NAMESPACE = uuid.UUID("0c6a9a57-3d0f-4f55-8a8e-3f9b7f1a2d64")
# An agent's load counts every unresolved conversation they hold: waking a snoozed one never overflows.
LOADED_STATUSES = ("open", "pending", "snoozed")
STRATEGIES = ("least_busy", "round_robin", "sticky", "manual")
TIMER_KINDS = ("offer", "snooze", "no_reply", "auto_resolve", "escalate", "business_open")

ACCOUNT_DEFAULTS: dict[str, Any] = {
    # Weight per channel in an agent's load (capacity units); a missing channel weighs 1.
    "channel_weights": {},
    # An agent offline past the grace period gives their open conversations back to routing.
    "give_back_on_offline": True,
    "grace_seconds": 30,
}

INBOX_DEFAULTS: dict[str, Any] = {
    "strategy": "least_busy",
    "team_id": None,
    "required_skills": [],
    "preferred_skills": [],
    "offer_timeout_seconds": 0,  # 0: auto-accept
    "first_response_seconds": 0,  # 0: no no-reply reassignment
    "auto_resolve_seconds": 0,  # 0: never auto-resolve
    "escalation_seconds": 0,  # 0: no escalation
    "sticky_window_seconds": 7 * 24 * 3600,
    "business_hours": None,  # {"timezone": "Europe/Paris", "weekly": {"mon": [["09:00", "17:00"]], ...}}
    "out_of_hours_message": "We are closed right now; we will answer as soon as we are back.",
}


def account_routing(account: Account | None) -> dict[str, Any]:
    stored = ((account.settings or {}) if account is not None else {}).get("routing") or {}
    return {**ACCOUNT_DEFAULTS, **stored}


def inbox_routing(inbox: Inbox | None) -> dict[str, Any]:
    return {**INBOX_DEFAULTS, **((inbox.routing or {}) if inbox is not None else {})}


@dataclass
class ConversationRouting:
    """Everything the decision for one conversation depends on besides the agents."""

    strategy: str
    team_id: uuid.UUID | None
    required: frozenset[str]
    preferred: frozenset[str]
    weight: float
    inbox: dict[str, Any] = field(default_factory=dict)


def conversation_routing(
    conversation: Conversation, inbox: Inbox | None, team: Team | None, account: Account | None
) -> ConversationRouting:
    config = inbox_routing(inbox)
    requirements = conversation.routing_requirements or {}
    team_id = conversation.team_id or _uuid_or_none(config.get("team_id"))
    strategy = (team.strategy if team is not None and team.id == team_id else None) or config["strategy"]
    required = set(config["required_skills"]) | set(requirements.get("required", []))
    preferred = set(config["preferred_skills"]) | set(requirements.get("preferred", []))
    weights = account_routing(account)["channel_weights"]
    return ConversationRouting(
        strategy=strategy if strategy in STRATEGIES else "least_busy",
        team_id=team_id,
        required=frozenset(required),
        preferred=frozenset(preferred),
        weight=float(weights.get(conversation.channel, 1)),
        inbox=config,
    )


def routed_team_id(conversation: Conversation, inbox: Inbox | None) -> uuid.UUID | None:
    return conversation.team_id or _uuid_or_none(inbox_routing(inbox).get("team_id"))


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def lock_account(session: AsyncSession, account_id: uuid.UUID) -> None:
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(str(account_id)))))


def decision_event_id(conversation: Conversation, kind: str) -> uuid.UUID:
    return uuid.uuid5(DECISION_NAMESPACE, f"{conversation.id}:{kind}:{conversation.assignment_version}")


def offer_pending(conversation_id: Any) -> Any:
    return exists().where(RoutingTimer.conversation_id == conversation_id, RoutingTimer.kind == "offer")


def queued_filter(account_id: uuid.UUID) -> list[Any]:
    """Open, unassigned, not currently offered: waiting in the queue."""
    return [
        Conversation.account_id == account_id,
        Conversation.status == "open",
        Conversation.assignee_id.is_(None),
        ~offer_pending(Conversation.id),
    ]


QUEUE_ORDER = (
    Conversation.priority.desc(),
    func.coalesce(Conversation.queued_at, Conversation.created_at),
    Conversation.id,
)


async def queue_positions(session: AsyncSession, account_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """1-based positions of every waiting conversation of the account (priority, then waiting time)."""
    ids = (
        await session.scalars(select(Conversation.id).where(*queued_filter(account_id)).order_by(*QUEUE_ORDER))
    ).all()
    return {conversation_id: index + 1 for index, conversation_id in enumerate(ids)}


async def agent_loads(
    session: AsyncSession, account_id: uuid.UUID, agent_ids: list[uuid.UUID], weights: dict[str, Any]
) -> dict[uuid.UUID, tuple[float, int]]:
    """(weighted load, number of conversations) per agent: held conversations plus pending offers."""
    if not agent_ids:
        return {}
    held = (
        await session.execute(
            select(Conversation.assignee_id, Conversation.channel, func.count())
            .where(
                Conversation.account_id == account_id,
                Conversation.status.in_(LOADED_STATUSES),
                Conversation.assignee_id.in_(agent_ids),
            )
            .group_by(Conversation.assignee_id, Conversation.channel)
        )
    ).all()
    offered = (
        await session.execute(
            select(RoutingTimer.agent_id, Conversation.channel, func.count())
            .join(Conversation, Conversation.id == RoutingTimer.conversation_id)
            .where(
                RoutingTimer.account_id == account_id,
                RoutingTimer.kind == "offer",
                RoutingTimer.agent_id.in_(agent_ids),
            )
            .group_by(RoutingTimer.agent_id, Conversation.channel)
        )
    ).all()
    loads: dict[uuid.UUID, tuple[float, int]] = {}
    for agent_id, channel, count in [*held, *offered]:
        load, number = loads.get(agent_id, (0.0, 0))
        loads[agent_id] = (load + float(weights.get(channel, 1)) * count, number + count)
    return loads


def capacity_of(user_max: int | None, account: Account | None) -> int:
    if user_max is not None:
        return user_max
    return account.default_max_conversations if account is not None else 0


async def has_capacity(
    session: AsyncSession, account: Account, agent: User, conversation: Conversation, *, already_counted: bool = False
) -> bool:
    """Whether the agent can take this conversation now (call under :func:`lock_account`)."""
    weights = account_routing(account)["channel_weights"]
    load, _ = (await agent_loads(session, account.id, [agent.id], weights)).get(agent.id, (0.0, 0))
    extra = 0.0 if already_counted else float(weights.get(conversation.channel, 1))
    return load + extra <= capacity_of(agent.max_conversations, account) + 1e-9


async def record(
    session: AsyncSession,
    conversation: Conversation,
    action: str,
    agent_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    session.add(
        RoutingHistory(
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            action=action,
            agent_id=agent_id,
            details=details or {},
            created_at=now or utcnow(),
        )
    )


async def schedule_timer(
    session: AsyncSession,
    conversation: Conversation,
    kind: str,
    due_at: datetime,
    *,
    agent_id: uuid.UUID | None = None,
) -> None:
    statement = insert(RoutingTimer).values(
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        kind=kind,
        due_at=due_at,
        agent_id=agent_id,
        version=conversation.assignment_version,
    )
    await session.execute(
        statement.on_conflict_do_update(
            constraint="uq_routing_timers_conversation_kind",
            set_={"due_at": due_at, "agent_id": agent_id, "version": conversation.assignment_version},
        )
    )


async def cancel_timers(session: AsyncSession, conversation_id: uuid.UUID, kinds: tuple[str, ...]) -> None:
    await session.execute(
        delete(RoutingTimer).where(RoutingTimer.conversation_id == conversation_id, RoutingTimer.kind.in_(kinds))
    )


async def pending_offer(session: AsyncSession, conversation_id: uuid.UUID) -> RoutingTimer | None:
    return await session.scalar(
        select(RoutingTimer).where(and_(RoutingTimer.conversation_id == conversation_id, RoutingTimer.kind == "offer"))
    )


async def assign(
    session: AsyncSession,
    conversation: Conversation,
    agent_id: uuid.UUID,
    *,
    strategy: str,
    explanation: dict[str, Any],
    reason: str,
    note: str | None = None,
    first_response_seconds: float = 0,
    now: datetime | None = None,
) -> ConversationAssigned:
    """Gives the conversation to the agent (caller holds the account lock and checked capacity)."""
    now = now or utcnow()
    previous = conversation.assignee_id
    conversation.assignee_id = agent_id
    conversation.assignment_version += 1
    conversation.queued_at = None
    conversation.routing_explanation = {**explanation, "reason": reason, "decided_at": now.isoformat()}
    await cancel_timers(session, conversation.id, ("offer", "escalate", "business_open", "no_reply"))
    if first_response_seconds and conversation.status == "open":
        await schedule_timer(
            session, conversation, "no_reply", now + timedelta(seconds=first_response_seconds), agent_id=agent_id
        )
    await session.execute(
        insert(AgentRoutingState)
        .values(user_id=agent_id, account_id=conversation.account_id, last_assigned_at=now)
        .on_conflict_do_update(index_elements=["user_id"], set_={"last_assigned_at": now})
    )
    await record(session, conversation, "assigned", agent_id, {"strategy": strategy, "reason": reason}, now)
    return ConversationAssigned(
        event_id=decision_event_id(conversation, "assigned"),
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        occurred_at=now,
        payload=ConversationAssignedPayload(
            agent_id=agent_id,
            previous_agent_id=previous,
            inbox_id=conversation.inbox_id,
            strategy=strategy,
            explanation=conversation.routing_explanation,
            reason=reason,
            note=note,
        ),
    )


async def unassign(
    session: AsyncSession,
    conversation: Conversation,
    *,
    reason: str,
    actor_id: uuid.UUID | None = None,
    note: str | None = None,
    team_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> ConversationUnassigned:
    """Takes the conversation back from its agent (it returns to routing if open)."""
    now = now or utcnow()
    previous = conversation.assignee_id
    conversation.assignee_id = None
    conversation.assignment_version += 1
    if team_id is not None:
        conversation.team_id = team_id
    await cancel_timers(session, conversation.id, ("offer", "no_reply"))
    await record(session, conversation, "unassigned", previous, {"reason": reason}, now)
    return ConversationUnassigned(
        event_id=decision_event_id(conversation, "unassigned"),
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        occurred_at=now,
        payload=ConversationUnassignedPayload(
            agent_id=previous,
            inbox_id=conversation.inbox_id,
            reason=reason,
            team_id=team_id,
            actor_id=actor_id,
            note=note,
        ),
    )
