from typing import Literal

TeamCreateStrategyType0 = Literal["least_busy", "manual", "round_robin", "sticky"]

TEAM_CREATE_STRATEGY_TYPE_0_VALUES: set[TeamCreateStrategyType0] = {
    "least_busy",
    "manual",
    "round_robin",
    "sticky",
}


def check_team_create_strategy_type_0(value: str) -> TeamCreateStrategyType0:
    if value in TEAM_CREATE_STRATEGY_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {TEAM_CREATE_STRATEGY_TYPE_0_VALUES!r}")
