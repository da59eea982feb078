from typing import Literal

AgentOutRole = Literal["admin", "agent", "owner"]

AGENT_OUT_ROLE_VALUES: set[AgentOutRole] = {
    "admin",
    "agent",
    "owner",
}


def check_agent_out_role(value: str) -> AgentOutRole:
    if value in AGENT_OUT_ROLE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {AGENT_OUT_ROLE_VALUES!r}")
