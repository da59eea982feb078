from typing import Literal

SubscriptionCreateEventsItem = Literal[
    "conversation.assigned",
    "conversation.created",
    "conversation.csat_answered",
    "conversation.queued",
    "conversation.resolved",
    "conversation.sla_breached",
    "message.created",
    "note.created",
]

SUBSCRIPTION_CREATE_EVENTS_ITEM_VALUES: set[SubscriptionCreateEventsItem] = {
    "conversation.assigned",
    "conversation.created",
    "conversation.csat_answered",
    "conversation.queued",
    "conversation.resolved",
    "conversation.sla_breached",
    "message.created",
    "note.created",
}


def check_subscription_create_events_item(value: str) -> SubscriptionCreateEventsItem:
    if value in SUBSCRIPTION_CREATE_EVENTS_ITEM_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {SUBSCRIPTION_CREATE_EVENTS_ITEM_VALUES!r}")
