from typing import Literal

SubscriptionUpdateEventsItem = Literal[
    "conversation.assigned",
    "conversation.created",
    "conversation.csat_answered",
    "conversation.queued",
    "conversation.resolved",
    "conversation.sla_breached",
    "message.created",
    "note.created",
]

SUBSCRIPTION_UPDATE_EVENTS_ITEM_VALUES: set[SubscriptionUpdateEventsItem] = {
    "conversation.assigned",
    "conversation.created",
    "conversation.csat_answered",
    "conversation.queued",
    "conversation.resolved",
    "conversation.sla_breached",
    "message.created",
    "note.created",
}


def check_subscription_update_events_item(value: str) -> SubscriptionUpdateEventsItem:
    if value in SUBSCRIPTION_UPDATE_EVENTS_ITEM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {SUBSCRIPTION_UPDATE_EVENTS_ITEM_VALUES!r}")
