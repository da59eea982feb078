from typing import Literal

AgentCreateRole = Literal["admin", "agent", "owner"]

AGENT_CREATE_ROLE_VALUES: set[AgentCreateRole] = {
    "admin",
    "agent",
    "owner",
}


def check_agent_create_role(value: str) -> AgentCreateRole:
    if value in AGENT_CREATE_ROLE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {AGENT_CREATE_ROLE_VALUES!r}")
