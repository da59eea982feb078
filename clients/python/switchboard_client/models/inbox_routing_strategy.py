from typing import Literal

InboxRoutingStrategy = Literal["least_busy", "manual", "round_robin", "sticky"]

INBOX_ROUTING_STRATEGY_VALUES: set[InboxRoutingStrategy] = {
    "least_busy",
    "manual",
    "round_robin",
    "sticky",
}


def check_inbox_routing_strategy(value: str) -> InboxRoutingStrategy:
    if value in INBOX_ROUTING_STRATEGY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {INBOX_ROUTING_STRATEGY_VALUES!r}")
