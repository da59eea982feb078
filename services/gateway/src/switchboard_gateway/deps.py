"""The gateway's typed dependencies: the shared auth dependencies plus the gateway's own settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from switchboard_common.domain.accounts.auth import (
    AdminAgent,
    AgentPrincipal,
    CurrentAgent,
    CurrentVisitor,
    ResourcesDep,
    SessionDep,
    VisitorPrincipal,
    authenticate_agent,
    authenticate_agent_at_once,
    authenticate_visitor,
)
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.conversations.visibility import Viewer, load_viewer

from switchboard_gateway.settings import GatewaySettings


async def get_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings  # set by create_app
    return settings


SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]


async def current_viewer(agent: CurrentAgent, session: SessionDep) -> Viewer:
    """The caller as a reader of conversations, under the account's visibility setting."""
    return await load_viewer(session, agent)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


class RoutingSettingsChanged:
    """Tells the account's routing writer to read its settings, teams, skills and capacities again — after
    the request's transaction committed (a background task runs once the response is out)."""

    def __init__(self, resources: ResourcesDep, background: BackgroundTasks) -> None:
        self.resources = resources
        self.background = background

    def __call__(self, account_id: uuid.UUID) -> None:
        self.background.add_task(commands.notify, self.resources, account_id, "refresh")


RoutingRefresh = Annotated[RoutingSettingsChanged, Depends(RoutingSettingsChanged)]

__all__ = [
    "AdminAgent",
    "AgentPrincipal",
    "CurrentAgent",
    "CurrentVisitor",
    "ResourcesDep",
    "RoutingRefresh",
    "SessionDep",
    "SettingsDep",
    "ViewerDep",
    "VisitorPrincipal",
    "authenticate_agent",
    "authenticate_agent_at_once",
    "authenticate_visitor",
]
