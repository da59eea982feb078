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
