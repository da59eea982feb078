"""The event names an account's webhook subscription may ask for: the API's enum and the fan-out's rule."""

from __future__ import annotations

from typing import Literal, get_args

# ``note.created`` (agents' private notes) only reaches a subscription that names it; ``conversation.resolved``
# is the resolving ``conversation.status_changed``.
SubscribableEvent = Literal[
    "conversation.created",
    "message.created",
    "conversation.assigned",
    "conversation.queued",
    "conversation.resolved",
    "note.created",
    "conversation.sla_breached",
    "conversation.csat_answered",
]
SUBSCRIBABLE_EVENTS: tuple[str, ...] = get_args(SubscribableEvent)
