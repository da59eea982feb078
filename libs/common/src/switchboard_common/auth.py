"""Authentication shared by every service that serves the agent API (gateway, privacy, connectors' install
endpoints): bearer tokens for agents and widget visitors, role checks, and typed FastAPI dependencies."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common import tokens
from switchboard_common.db.models import Account, User
from switchboard_common.errors import AppError
from switchboard_common.runtime import Resources

bearer = HTTPBearer(auto_error=False)


def get_resources(request: Request) -> Resources:
    return request.app.state.resources  # type: ignore[no-any-return]


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def unauthorized() -> AppError:
    return AppError(401, "unauthorized", "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class AgentPrincipal:
    user_id: uuid.UUID
    account_id: uuid.UUID
    role: str
    name: str


async def authenticate_agent(token: str | None, resources: Resources, session: AsyncSession) -> AgentPrincipal:
    if not token:
        raise unauthorized()
    try:
        claims = tokens.decode(resources.settings.secret_key, token)
    except tokens.InvalidToken:
        raise unauthorized() from None
    if claims.kind != "agent":
        raise AppError(403, "forbidden", "this token cannot open the agent API")
    user = await session.get(User, claims.subject)
    if user is None or user.deleted_at is not None or user.account_id != claims.account_id:
        raise unauthorized()
    if user.token_version != claims.version:
        raise AppError(401, "token_revoked", "token was revoked")
    account = await session.get(Account, user.account_id)
    if account is None or account.status != "active":
        raise AppError(403, "account_suspended", f"account is {account.status if account else 'gone'}")
    return AgentPrincipal(user_id=user.id, account_id=user.account_id, role=user.role, name=user.name)


async def current_agent(
    resources: ResourcesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AgentPrincipal:
    return await authenticate_agent(credentials.credentials if credentials else None, resources, session)


CurrentAgent = Annotated[AgentPrincipal, Depends(current_agent)]


def require_role(*roles: str) -> object:
    async def dependency(agent: CurrentAgent) -> AgentPrincipal:
        if agent.role not in roles:
            raise AppError(403, "forbidden", f"requires role {' or '.join(roles)}")
        return agent

    return Depends(dependency)


AdminAgent = Annotated[AgentPrincipal, require_role("owner", "admin")]


@dataclass(frozen=True)
class VisitorPrincipal:
    contact_id: uuid.UUID
    account_id: uuid.UUID
    inbox_id: uuid.UUID


def authenticate_visitor(token: str | None, resources: Resources) -> VisitorPrincipal:
    if not token:
        raise unauthorized()
    try:
        claims = tokens.decode(resources.settings.secret_key, token)
    except tokens.InvalidToken:
        raise unauthorized() from None
    if claims.kind != "visitor" or claims.inbox_id is None:
        raise AppError(403, "forbidden", "a visitor token is required")
    return VisitorPrincipal(contact_id=claims.subject, account_id=claims.account_id, inbox_id=claims.inbox_id)


async def current_visitor(
    resources: ResourcesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> VisitorPrincipal:
    return authenticate_visitor(credentials.credentials if credentials else None, resources)


CurrentVisitor = Annotated[VisitorPrincipal, Depends(current_visitor)]
