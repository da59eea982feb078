from typing import Literal

VisibilityOutAgentsSee = Literal["all", "assigned", "team"]

VISIBILITY_OUT_AGENTS_SEE_VALUES: set[VisibilityOutAgentsSee] = {
    "all",
    "assigned",
    "team",
}


def check_visibility_out_agents_see(value: str) -> VisibilityOutAgentsSee:
    if value in VISIBILITY_OUT_AGENTS_SEE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {VISIBILITY_OUT_AGENTS_SEE_VALUES!r}")
