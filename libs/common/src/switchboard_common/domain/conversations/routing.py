"""Routing settings, the stored queue, and the bridge between stored conversations and the lifecycle.

The rules themselves (states, transitions, capacity) live in
:mod:`switchboard_common.domain.conversations.lifecycle`; this module reads the rows a transition needs
(:func:`load_state`, :func:`agent_room`) and stores what it made happen (:func:`apply_outcome`: the row, its
timers, routing history, the agent's last assignment; the caller stages the events in the same transaction).
Every change of who holds a conversation runs under :func:`lock_account` (a transaction-scoped advisory
lock per account), so capacity is checked against the committed state and a claim race has one winner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.models import Account, Team
from switchboard_common.domain.conversations import lifecycle
from switchboard_common.domain.conversations.models import AgentRoutingState, Conversation, RoutingHistory, RoutingTimer
from switchboard_common.domain.events import Event
from switchboard_common.domain.inboxes.models import Inbox

STRATEGIES = ("least_busy", "round_robin", "sticky", "manual")

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
    "labels": [],  # label names every new conversation of the inbox gets
}


def _set(stored: dict[str, Any]) -> dict[str, Any]:
    # A stored null (an API client's "reset this") means the default, never a null the rules would trip on.
    return {key: value for key, value in stored.items() if value is not None}


def account_routing(account: Account | None) -> dict[str, Any]:
    stored = ((account.settings or {}) if account is not None else {}).get("routing") or {}
    return {**ACCOUNT_DEFAULTS, **_set(stored)}


def inbox_routing(inbox: Inbox | None) -> dict[str, Any]:
    return {**INBOX_DEFAULTS, **_set((inbox.routing or {}) if inbox is not None else {})}


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
        weight=lifecycle.channel_weight(conversation.channel, weights),
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
    """(weighted load, number of conversations) per agent: what they hold (:func:`lifecycle.holder`), that is
    their unresolved conversations plus pending offers."""
    if not agent_ids:
        return {}
    held = (
        await session.execute(
            select(Conversation.assignee_id, Conversation.channel, func.count())
            .where(
                Conversation.account_id == account_id,
                Conversation.status.in_(lifecycle.LOADED_STATUSES),
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
        loads[agent_id] = (load + lifecycle.channel_weight(channel, weights) * count, number + count)
    return loads


def capacity_of(user_max: int | None, account: Account | None) -> int:
    if user_max is not None:
        return user_max
    return account.default_max_conversations if account is not None else 0


async def agent_room(
    session: AsyncSession, account: Account, agent_id: uuid.UUID, user_max: int | None
) -> lifecycle.AgentRoom:
    """The agent's load and capacity now (call under :func:`lock_account`)."""
    weights = account_routing(account)["channel_weights"]
    load, _ = (await agent_loads(session, account.id, [agent_id], weights)).get(agent_id, (0.0, 0))
    return lifecycle.AgentRoom(agent_id, load, capacity_of(user_max, account))


def weight_of(conversation: Conversation, account: Account | None) -> float:
    return lifecycle.channel_weight(conversation.channel, account_routing(account)["channel_weights"])


async def pending_offer(session: AsyncSession, conversation_id: uuid.UUID) -> RoutingTimer | None:
    return await session.scalar(
        select(RoutingTimer).where(and_(RoutingTimer.conversation_id == conversation_id, RoutingTimer.kind == "offer"))
    )


def state_of_row(conversation: Conversation, offer: RoutingTimer | None) -> lifecycle.Conversation:
    """The lifecycle's view of a stored conversation (its pending offer is a timer row)."""
    return lifecycle.Conversation(
        id=conversation.id,
        account_id=conversation.account_id,
        inbox_id=conversation.inbox_id,
        contact_id=conversation.contact_id,
        channel=conversation.channel,
        status=conversation.status,
        created_at=conversation.created_at,
        assignee_id=conversation.assignee_id,
        offer=lifecycle.Offer(offer.agent_id, offer.due_at) if offer is not None and offer.agent_id else None,
        queued_at=conversation.queued_at,
        priority=conversation.priority,
        team_id=conversation.team_id,
        requirements=conversation.routing_requirements or {},
        version=conversation.assignment_version,
        snoozed_until=conversation.snoozed_until,
        last_message_at=conversation.last_message_at,
        explanation=conversation.routing_explanation or {},
    )


async def load_state(session: AsyncSession, conversation: Conversation) -> lifecycle.Conversation:
    return state_of_row(conversation, await pending_offer(session, conversation.id))


async def apply_outcome(session: AsyncSession, conversation: Conversation, outcome: lifecycle.Outcome) -> list[Event]:
    """Stores a transition's outcome in the caller's transaction; returns its events (for the outbox)."""
    after = outcome.after
    conversation.status = after.status
    conversation.assignee_id = after.assignee_id
    conversation.queued_at = after.queued_at
    conversation.priority = after.priority
    conversation.team_id = after.team_id
    conversation.routing_requirements = dict(after.requirements)
    conversation.assignment_version = after.version
    conversation.snoozed_until = after.snoozed_until
    conversation.routing_explanation = dict(after.explanation)
    for change in outcome.timers:
        if isinstance(change, lifecycle.CancelTimers):
            await session.execute(
                delete(RoutingTimer).where(
                    RoutingTimer.conversation_id == conversation.id, RoutingTimer.kind.in_(change.kinds)
                )
            )
        else:
            statement = insert(RoutingTimer).values(
                account_id=conversation.account_id,
                conversation_id=conversation.id,
                kind=change.kind,
                due_at=change.due_at,
                agent_id=change.agent_id,
                version=change.version,
            )
            await session.execute(
                statement.on_conflict_do_update(
                    constraint="uq_routing_timers_conversation_kind",
                    set_={"due_at": change.due_at, "agent_id": change.agent_id, "version": change.version},
                )
            )
    for entry in outcome.history:
        session.add(
            RoutingHistory(
                account_id=conversation.account_id,
                conversation_id=conversation.id,
                action=entry.action,
                agent_id=entry.agent_id,
                details=dict(entry.details),
                created_at=entry.at,
            )
        )
    if outcome.assigned_to is not None:
        at = next(entry.at for entry in reversed(outcome.history) if entry.action == "assigned")
        await session.execute(
            insert(AgentRoutingState)
            .values(user_id=outcome.assigned_to, account_id=conversation.account_id, last_assigned_at=at)
            .on_conflict_do_update(index_elements=["user_id"], set_={"last_assigned_at": at})
        )
    return list(outcome.events)
