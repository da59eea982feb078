from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from sqlalchemy import select
from switchboard_common.domain.accounts import presence, revocation
from switchboard_common.domain.accounts.auth import refuse_api_token
from switchboard_common.domain.accounts.models import Account, User
from switchboard_common.domain.accounts.owners import guard_owner_change
from switchboard_common.infra.clientip import client_address
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides

from switchboard_gateway.accounts import login as login_flow
from switchboard_gateway.accounts import regional, schemas, service
from switchboard_gateway.accounts.passwords import PasswordsDep
from switchboard_gateway.deps import AdminAgent, CurrentAgent, ResourcesDep, RoutingRefresh, SessionDep, SettingsDep
from switchboard_gateway.ratelimit import RateLimiter, too_many
from switchboard_gateway.security import audit
from switchboard_gateway.teams import service as team_service

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.SignupResponse,
    response_model_exclude_none=True,  # "region" only where there are regions
    responses=errors(
        bad_request="unknown_region: no such region in this installation (details.regions lists them)",
        conflict="email_taken: a user with this e-mail exists",
        too_many="rate_limited: too many sign-ups from this address; too_many_logins: this server has too many "
        "password hashes in hand (Retry-After)",
    ),
    openapi_extra=provides(agent_id="$response.body#/user_id"),
)
async def signup(
    body: schemas.SignupRequest,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
) -> schemas.SignupResponse:
    if body.region is not None and body.region != (settings.region or None):
        # With several regions the request was already relayed to the region it names; here it names none of
        # this installation's.
        raise AppError(
            400,
            "unknown_region",
            f"no region {body.region!r} in this installation",
            details={"regions": settings.region_names},
        )
    address = client_address(request, settings.trusted_proxies)
    limiter = RateLimiter.of(resources)
    key = limiter.hashed(str(address) if address else "unknown")
    decision = await limiter.hit("signup", key, limit=settings.signup_per_address_per_hour, window_seconds=3600)
    if not decision.allowed:
        raise too_many(decision, "too many sign-ups from this address, retry later")
    # A sign-up may answer that the e-mail is taken, which tells a stranger the address has an account. Every
    # attempt takes one of the address's few such answers *before* the e-mail is looked at, and gives it back
    # unless it was taken: so 429 never depends on the e-mail, and a parallel burst gets no more answers.
    decision = await limiter.hit(
        "signup-taken", key, limit=settings.signup_taken_per_address_per_hour, window_seconds=3600
    )
    if not decision.allowed:
        raise too_many(decision, "too many sign-up attempts from this address, retry later")
    try:
        account, user = await regional.create_account(session, resources.directory, passwords, body)
    except AppError as exc:
        if exc.code != "email_taken":
            await limiter.give_back("signup-taken", key)
        raise
    await limiter.give_back("signup-taken", key)
    return schemas.SignupResponse(account_id=account.id, user_id=user.id, region=settings.region or None)


@router.post(
    "/auth/login",
    response_model=schemas.TokenResponse,
    responses=errors(
        unauthorized="invalid_credentials, totp_required (send totp_code) or invalid_totp",
        forbidden="account_suspended",
        too_many="rate_limited: too many failed logins (per account and per address); too_many_logins: this "
        "server has too many password checks in hand (Retry-After)",
    ),
)
async def login(
    body: schemas.LoginRequest,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
) -> schemas.TokenResponse:
    return await login_flow.login(body, request, session, resources, settings, passwords)


def _agent_out(
    user: User,
    statuses: dict[uuid.UUID, str],
    skills: dict[uuid.UUID, list[str]] | None = None,
    teams: dict[uuid.UUID, list[uuid.UUID]] | None = None,
) -> schemas.AgentOut:
    return schemas.AgentOut(
        id=user.id,
        account_id=user.account_id,
        email=user.email,
        name=user.name,
        role=user.role,
        max_conversations=user.max_conversations,
        status=statuses.get(user.id, "offline"),
        skills=(skills or {}).get(user.id, []),
        teams=(teams or {}).get(user.id, []),
    )


async def _agents_out(session: SessionDep, resources: ResourcesDep, users: list[User]) -> list[schemas.AgentOut]:
    """Agents as stored: presence, skills and teams read in one query each (a form saving them back keeps them)."""
    if not users:
        return []
    ids = [u.id for u in users]
    statuses = await presence.get_statuses(resources.redis, resources.keys, users[0].account_id)
    skills = await team_service.skills_of(session, ids)
    teams = await team_service.teams_of(session, ids)
    return [_agent_out(u, statuses, skills, teams) for u in users]


@router.get("/me", response_model=schemas.MeOut, openapi_extra=provides(agent_id="$response.body#/id"))
async def me(agent: CurrentAgent, session: SessionDep, resources: ResourcesDep) -> schemas.MeOut:
    user = await service.get_agent(session, agent.user_id)
    account = await session.get(Account, agent.account_id)
    (out,) = await _agents_out(session, resources, [user])
    return schemas.MeOut(**out.model_dump(), account_name=account.name if account else "")


@router.post(
    "/agents",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.AgentOut,
    responses=errors(
        conflict="email_taken: a user with this e-mail exists",
        too_many="too_many_logins: this server has too many password hashes in hand (Retry-After)",
    ),
    openapi_extra=provides(agent_id="$response.body#/id"),
)
async def create_agent(
    body: schemas.AgentCreate,
    admin: AdminAgent,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    settings: SettingsDep,
    refresh: RoutingRefresh,
    passwords: PasswordsDep,
) -> schemas.AgentOut:
    refresh(admin.account_id)
    refuse_api_token(admin, "create agents")
    if body.role == "owner" and admin.role != "owner":
        raise AppError(403, "forbidden", "only an owner can create another owner")
    await session.rollback()  # no connection held while the hash waits for or runs in the pool
    password_hash = await passwords.hash(body.password)
    async with regional.login_claimed(resources.directory, str(body.email)), atomic(session):
        user = await service.create_agent(
            session,
            account_id=admin.account_id,
            email=body.email,
            name=body.name,
            password_hash=password_hash,
            role=body.role,
            max_conversations=body.max_conversations,
        )
        await audit.record(
            session,
            audit.by("agent_created", admin, request, settings.trusted_proxies, agent_id=str(user.id), role=user.role),
        )
    return _agent_out(user, {})


@router.get("/agents", response_model=list[schemas.AgentOut], openapi_extra=provides(agent_id="$response.body#/0/id"))
async def list_agents(agent: CurrentAgent, session: SessionDep, resources: ResourcesDep) -> list[schemas.AgentOut]:
    users = (await session.scalars(select(User).where(User.deleted_at.is_(None)).order_by(User.created_at))).all()
    return await _agents_out(session, resources, list(users))


@router.get("/agents/{agent_id}", response_model=schemas.AgentOut)
async def get_agent(
    agent_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.AgentOut:
    user = await service.get_agent(session, agent_id)
    (out,) = await _agents_out(session, resources, [user])
    return out


@router.patch(
    "/agents/{agent_id}",
    response_model=schemas.AgentOut,
    responses=errors(
        forbidden="owner_protected (only an owner changes an owner), api_token_forbidden (roles need a person)",
        conflict="last_owner: the account's last owner cannot be demoted",
    ),
)
async def update_agent(
    agent_id: uuid.UUID,
    body: schemas.AgentUpdate,
    admin: AdminAgent,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    resources: ResourcesDep,
    refresh: RoutingRefresh,
) -> schemas.AgentOut:
    refresh(admin.account_id)
    role_changed = False
    async with atomic(session):
        user = await service.get_agent(session, agent_id)
        changes = body.model_dump(exclude_unset=True)
        if changes.get("role") is not None:
            refuse_api_token(admin, "change roles")
        if changes.get("role") == "owner" and admin.role != "owner":
            raise AppError(403, "forbidden", "only an owner can grant the owner role")
        if changes.get("role") is not None:
            await guard_owner_change(session, admin, user, new_role=changes["role"])
        if changes.get("role") is not None and changes["role"] != user.role:
            role_changed = True
            await audit.record(
                session,
                audit.by(
                    "role_changed",
                    admin,
                    request,
                    settings.trusted_proxies,
                    agent_id=str(user.id),
                    from_role=user.role,
                    to_role=changes["role"],
                ),
            )
        skills, teams = changes.pop("skills", None), changes.pop("teams", None)
        for field, value in changes.items():
            setattr(user, field, value)
        if skills is not None:
            await team_service.set_skills(session, user, skills)
        if teams is not None:
            await team_service.set_teams(session, user, teams)
        out = _agent_out(user, {})
        out.skills = (await team_service.skills_of(session, [user.id])).get(user.id, [])
        out.teams = (await team_service.teams_of(session, [user.id])).get(user.id, [])
    if role_changed:
        # Sockets opened with the old role re-check now (an admin's socket sees the whole account).
        await revocation.announce(resources.redis, resources.keys, revocation.Revocation(user.account_id, user.id))
    return out
