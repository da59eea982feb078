from typing import Literal

VisibilityInAgentsSee = Literal["all", "assigned", "team"]

VISIBILITY_IN_AGENTS_SEE_VALUES: set[VisibilityInAgentsSee] = {
    "all",
    "assigned",
    "team",
}


def check_visibility_in_agents_see(value: str) -> VisibilityInAgentsSee:
    if value in VISIBILITY_IN_AGENTS_SEE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {VISIBILITY_IN_AGENTS_SEE_VALUES!r}")
