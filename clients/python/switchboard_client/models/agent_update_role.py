from typing import Literal

AgentUpdateRole = Literal["admin", "agent", "owner"]

AGENT_UPDATE_ROLE_VALUES: set[AgentUpdateRole] = {
    "admin",
    "agent",
    "owner",
}


def check_agent_update_role(value: str) -> AgentUpdateRole:
    if value in AGENT_UPDATE_ROLE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {AGENT_UPDATE_ROLE_VALUES!r}")
