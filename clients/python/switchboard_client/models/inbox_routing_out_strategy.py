from typing import Literal

InboxRoutingOutStrategy = Literal["least_busy", "manual", "round_robin", "sticky"]

INBOX_ROUTING_OUT_STRATEGY_VALUES: set[InboxRoutingOutStrategy] = {
    "least_busy",
    "manual",
    "round_robin",
    "sticky",
}


def check_inbox_routing_out_strategy(value: str) -> InboxRoutingOutStrategy:
    if value in INBOX_ROUTING_OUT_STRATEGY_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {INBOX_ROUTING_OUT_STRATEGY_VALUES!r}")
