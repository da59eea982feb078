"""Authentication shared by every service that serves the agent API (gateway, privacy, connectors' install
endpoints): bearer tokens for agents and widget visitors, role checks, and typed FastAPI dependencies."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.requests import HTTPConnection

from switchboard_common.domain.accounts.models import Account, ApiToken, User
from switchboard_common.domain.accounts.tenancy import cross_tenant, scope_session
from switchboard_common.infra import tokens
from switchboard_common.infra.clientip import client_address, in_networks, parse_networks
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import declares
from switchboard_common.infra.runtime import Resources

bearer = HTTPBearer(auto_error=False)


async def get_resources(request: Request) -> Resources:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a thread hop on every request.
    resources: Resources = request.app.state.resources  # set by the lifespan before any request
    return resources


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
    # Set when the caller is an integration's API token (``sbt_...``) rather than a logged-in agent.
    api_token_id: uuid.UUID | None = None
    scopes: frozenset[str] = frozenset()
    # The login this access token belongs to (None for API tokens and tokens issued before sessions).
    session_id: uuid.UUID | None = None


API_TOKEN_PREFIX = "sbt_"  # noqa: S105 - a prefix, not a secret
# Paths an agent may use before enrolling 2FA when the account owner requires it.
_TOTP_ENROLLMENT_PATHS = ("/api/v1/auth/", "/api/v1/me")
# API tokens never manage credentials: those need a person.
_API_TOKEN_FORBIDDEN_PATHS = (
    "/api/v1/api-tokens",
    "/api/v1/auth/",
    "/api/v1/account/ip-allowlist",
    "/api/v1/account/security-policy",
)


def api_token_forbidden(action: str) -> AppError:
    return AppError(403, "api_token_forbidden", f"API tokens cannot {action}: that needs a person's login")


def refuse_api_token(principal: AgentPrincipal, action: str) -> None:
    """Actions that create or change credentials or powers (agents, roles) need a person: a leaked integration
    token must not mint a login that outlives it, or raise anyone's rights."""
    if principal.api_token_id is not None:
        raise api_token_forbidden(action)


def hash_api_token(token: str) -> str:
    # API tokens are 32 random bytes: a fast hash is enough (nothing to brute-force), and lookups stay O(1).
    return hashlib.sha256(token.encode()).hexdigest()


def required_scope(method: str, path: str) -> str:
    if path.startswith("/api/v1/privacy"):
        return "privacy"
    return "read" if method.upper() in ("GET", "HEAD", "OPTIONS") else "write"


async def _authenticate_api_token(
    token: str, session: AsyncSession, connection: HTTPConnection | None
) -> tuple[AgentPrincipal, Account]:
    # The lookup that finds the account: by the token's hash, across accounts; the rest is scoped to it.
    row = await session.scalar(cross_tenant(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))))
    if row is None or row.revoked_at is not None or row.created_by is None:
        raise unauthorized()
    scope_session(session, row.account_id)
    user = await session.get(User, row.created_by)
    if user is None or user.deleted_at is not None or user.account_id != row.account_id:
        raise AppError(401, "token_revoked", "token was revoked")
    account = await _active_account(session, row.account_id)
    if connection is not None:
        path = connection.url.path
        if path.startswith(_API_TOKEN_FORBIDDEN_PATHS):
            raise api_token_forbidden("manage credentials")
        method = connection.scope.get("method", "GET")
        scope = required_scope(method, path)
        if scope not in row.scopes:
            raise AppError(403, "insufficient_scope", f"this token lacks the {scope!r} scope")
    now = utcnow()
    # last_used_at is for humans: minute precision spares a write per request.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        await session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        await session.commit()
    # An integration acts with at most admin rights: owner-only actions need the owner in person.
    role = "admin" if user.role == "owner" else user.role
    principal = AgentPrincipal(
        user_id=user.id,
        account_id=user.account_id,
        role=role,
        name=row.name,
        api_token_id=row.id,
        scopes=frozenset(row.scopes),
    )
    return principal, account


async def _active_account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = await session.get(Account, account_id)
    if account is None or account.status != "active":
        reason = f" ({account.suspension_reason})" if account is not None and account.suspension_reason else ""
        raise AppError(403, "account_suspended", f"account is {account.status if account else 'gone'}{reason}")
    return account


def _check_allowlist(cidrs: list[str] | None, resources: Resources, connection: HTTPConnection | None) -> None:
    if not cidrs or connection is None:
        return
    address = client_address(connection, resources.settings.trusted_proxies)
    if address is None or not in_networks(address, parse_networks(tuple(cidrs))):
        raise AppError(403, "ip_not_allowed", "this address is not in the account's IP allowlist")


async def authenticate_agent(
    token: str | None,
    resources: Resources,
    session: AsyncSession,
    *,
    connection: HTTPConnection | None = None,
) -> AgentPrincipal:
    """Who calls the agent API. ``connection`` (the request or socket) enables the IP allowlist, API token
    scopes and the account's 2FA requirement; every caller that has one should pass it."""
    if not token:
        raise unauthorized()
    if token.startswith(API_TOKEN_PREFIX):
        principal, account = await _authenticate_api_token(token, session, connection)
        _check_allowlist((account.settings or {}).get("ip_allowlist"), resources, connection)
        return principal
    claims = _agent_claims(token, resources)
    # Everything from here reads the token's account only: a user of another account reads as missing.
    scope_session(session, claims.account_id)
    return _agent_principal(claims, await _credentials(session, claims), resources, connection)


async def authenticate_agent_at_once(
    token: str | None, resources: Resources, *, connection: HTTPConnection | None = None
) -> AgentPrincipal:
    """:func:`authenticate_agent` for a caller without a session (an agent socket's handshake and heartbeats):
    one statement in autocommit on a connection taken from the pool for that statement alone, so hundreds of
    sockets opening at once neither hold pooled connections nor pay BEGIN and ROLLBACK round trips."""
    if token and token.startswith(API_TOKEN_PREFIX):
        async with resources.sessionmaker() as session:
            return await authenticate_agent(token, resources, session, connection=connection)
    claims = _agent_claims(token, resources)
    async with resources.engine.connect() as pooled:
        autocommit = await pooled.execution_options(isolation_level="AUTOCOMMIT")
        credentials = await _credentials(autocommit, claims)
    return _agent_principal(claims, credentials, resources, connection)


# What an agent's access token is checked against, in one round trip: the user (present, token version, role),
# their login (not revoked), the account (active, IP allowlist, 2FA rule) and whether they enrolled 2FA.
AGENT_CREDENTIALS = text(
    """
    SELECT u.role, u.name, u.token_version, a.status AS account_status, a.suspension_reason,
           a.settings -> 'ip_allowlist' AS ip_allowlist, a.settings -> 'require_2fa' AS require_2fa,
           (SELECT s.revoked_at IS NULL AND s.user_id = u.id FROM auth_sessions s
             WHERE s.id = CAST(:session_id AS uuid) AND s.account_id = u.account_id) AS login_valid,
           EXISTS (SELECT 1 FROM user_totp t
                    WHERE t.user_id = u.id AND t.account_id = u.account_id AND t.confirmed_at IS NOT NULL)
             AS totp_confirmed
      FROM users u JOIN accounts a ON a.id = u.account_id
     WHERE u.id = CAST(:user_id AS uuid) AND u.account_id = CAST(:account_id AS uuid) AND u.deleted_at IS NULL
    """
).columns(ip_allowlist=JSONB, require_2fa=JSONB)


def _agent_claims(token: str | None, resources: Resources) -> tokens.TokenClaims:
    if not token:
        raise unauthorized()
    try:
        claims = tokens.decode(resources.settings.secret_key, token)
    except tokens.InvalidToken:
        raise unauthorized() from None
    if claims.kind != "agent":
        raise AppError(403, "forbidden", "this token cannot open the agent API")
    return claims


async def _credentials(executor: AsyncSession | AsyncConnection, claims: tokens.TokenClaims) -> Any:
    # Raw SQL filters on the token's account itself (the session's tenant scope does not rewrite text).
    result = await executor.execute(
        AGENT_CREDENTIALS,
        {"user_id": claims.subject, "account_id": claims.account_id, "session_id": claims.session_id},
    )
    return result.first()


def _agent_principal(
    claims: tokens.TokenClaims, row: Any, resources: Resources, connection: HTTPConnection | None
) -> AgentPrincipal:
    """The checks, in the order callers see their refusals: who, which login, which account, from where, 2FA."""
    if row is None:
        raise unauthorized()
    if row.token_version != claims.version:
        raise AppError(401, "token_revoked", "token was revoked")
    if claims.session_id is not None and not row.login_valid:
        raise AppError(401, "token_revoked", "token was revoked")
    if row.account_status != "active":
        reason = f" ({row.suspension_reason})" if row.suspension_reason else ""
        raise AppError(403, "account_suspended", f"account is {row.account_status}{reason}")
    _check_allowlist(row.ip_allowlist, resources, connection)
    if (
        row.require_2fa
        and connection is not None
        and not connection.url.path.startswith(_TOTP_ENROLLMENT_PATHS)
        and not row.totp_confirmed
    ):
        raise AppError(403, "totp_enrollment_required", "this account requires two-factor login: enroll first")
    return AgentPrincipal(
        user_id=claims.subject, account_id=claims.account_id, role=row.role, name=row.name, session_id=claims.session_id
    )


# 401: no, bad, expired or revoked token; 403: suspended account, IP allowlist, 2FA enrollment, API token scope.
@declares(401, 403)
async def current_agent(
    request: Request,
    resources: ResourcesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AgentPrincipal:
    return await authenticate_agent(
        credentials.credentials if credentials else None, resources, session, connection=request
    )


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


@declares(401, 403)
async def current_visitor(
    resources: ResourcesDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> VisitorPrincipal:
    visitor = authenticate_visitor(credentials.credentials if credentials else None, resources)
    # The request's session (the same one its handler gets) reads the visitor's account only.
    scope_session(session, visitor.account_id)
    return visitor


CurrentVisitor = Annotated[VisitorPrincipal, Depends(current_visitor)]
