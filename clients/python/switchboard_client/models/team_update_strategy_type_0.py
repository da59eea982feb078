from typing import Literal

TeamUpdateStrategyType0 = Literal["least_busy", "manual", "round_robin", "sticky"]

TEAM_UPDATE_STRATEGY_TYPE_0_VALUES: set[TeamUpdateStrategyType0] = {
    "least_busy",
    "manual",
    "round_robin",
    "sticky",
}


def check_team_update_strategy_type_0(value: str) -> TeamUpdateStrategyType0:
    if value in TEAM_UPDATE_STRATEGY_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {TEAM_UPDATE_STRATEGY_TYPE_0_VALUES!r}")
