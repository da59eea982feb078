"""The gateway's typed dependencies: the shared auth dependencies plus the gateway's own settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from switchboard_common.domain.accounts.auth import (
    AdminAgent,
    AgentPrincipal,
    CurrentAgent,
    CurrentVisitor,
    ResourcesDep,
    SessionDep,
    VisitorPrincipal,
    authenticate_agent,
    authenticate_visitor,
)

from switchboard_gateway.settings import GatewaySettings


async def get_settings(request: Request) -> GatewaySettings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]

__all__ = [
    "AdminAgent",
    "AgentPrincipal",
    "CurrentAgent",
    "CurrentVisitor",
    "ResourcesDep",
    "SessionDep",
    "SettingsDep",
    "VisitorPrincipal",
    "authenticate_agent",
    "authenticate_visitor",
]
