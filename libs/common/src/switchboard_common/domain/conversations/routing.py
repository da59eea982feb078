"""Routing settings (account and inbox, with their defaults) and the queue as stored: what the gateway reads.

The rules (states, transitions, capacity) live in :mod:`switchboard_common.domain.conversations.lifecycle`;
the router's writer for each account applies them and is the only one writing routing state
(docs/routing.md). The queue in the database (open, unassigned, not offered; by priority then waiting time)
is what the writer committed: positions read here match the ones it pushes to visitors.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.conversations import lifecycle
from switchboard_common.domain.conversations.models import Conversation, RoutingTimer
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


def uuid_or_none(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def offer_pending(conversation_id: Any) -> Any:
    return exists().where(RoutingTimer.conversation_id == conversation_id, RoutingTimer.kind == "offer")


def queued_filter() -> list[Any]:
    """Open, unassigned, not currently offered: waiting in the queue (of the account the session is scoped to)."""
    return [
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
    """1-based positions of every waiting conversation of the account (priority, then waiting time), in a
    session scoped to it."""
    require_tenant(session, account_id)
    ids = (await session.scalars(select(Conversation.id).where(*queued_filter()).order_by(*QUEUE_ORDER))).all()
    return {conversation_id: index + 1 for index, conversation_id in enumerate(ids)}


# Reads for reports and SLA clocks (the routing writer keeps its own state in memory; these read what it
# committed).


def routed_team_id(conversation: Conversation, inbox: Inbox | None) -> uuid.UUID | None:
    """The team a conversation is routed to: its own, else its inbox's routing team."""
    return conversation.team_id or routed_team_id_of_inbox(inbox)


def routed_team_id_of_inbox(inbox: Inbox | None) -> uuid.UUID | None:
    """The team an inbox routes to (conversations without a team of their own)."""
    return uuid_or_none(inbox_routing(inbox).get("team_id"))


async def agent_loads(
    session: AsyncSession, account_id: uuid.UUID, agent_ids: list[uuid.UUID], weights: dict[str, Any]
) -> dict[uuid.UUID, tuple[float, int]]:
    """(weighted load, number of conversations) per agent as committed: what they hold
    (:func:`lifecycle.holder`), their unresolved conversations plus pending offers; in a session scoped to the
    account."""
    require_tenant(session, account_id)
    if not agent_ids:
        return {}
    held = (
        await session.execute(
            select(Conversation.assignee_id, Conversation.channel, func.count())
            .where(
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
                RoutingTimer.kind == "offer",
                RoutingTimer.agent_id.in_(agent_ids),
            )
            .group_by(RoutingTimer.agent_id, Conversation.channel)
        )
    ).all()
    loads: dict[uuid.UUID, tuple[float, int]] = {}
    for agent_id, channel, count in [*held, *offered]:
        if agent_id is None:  # never: both queries keep only rows whose agent is IN agent_ids
            continue
        load, number = loads.get(agent_id, (0.0, 0))
        loads[agent_id] = (load + lifecycle.channel_weight(channel, weights) * count, number + count)
    return loads


def capacity_of(user_max: int | None, account: Account | None) -> int:
    """An agent's capacity: their own, else the account's default."""
    if user_max is not None:
        return user_max
    return account.default_max_conversations if account is not None else 0
