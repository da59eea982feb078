"""Endpoints for 2FA, sessions, API tokens, the IP allowlist, the 2FA policy and the security audit."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts import revocation
from switchboard_common.domain.accounts.auth import API_TOKEN_PREFIX, hash_api_token, require_role
from switchboard_common.domain.accounts.models import (
    Account,
    ApiToken,
    AuthSession,
    RecoveryCode,
    SecurityEvent,
    User,
    UserTotp,
)
from switchboard_common.domain.encryption.columns import TOTP_SECRETS
from switchboard_common.infra.clientip import client_address
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides
from switchboard_common.infra.regions import tag

from switchboard_gateway.accounts import schemas as account_schemas
from switchboard_gateway.accounts.passwords import PasswordHashing, PasswordsDep
from switchboard_gateway.deps import AdminAgent, AgentPrincipal, CurrentAgent, ResourcesDep, SessionDep, SettingsDep
from switchboard_gateway.ratelimit import LoginThrottle
from switchboard_gateway.security import audit, schemas, sessions, totp
from switchboard_gateway.security.throttle import password_throttle
from switchboard_gateway.settings import GatewaySettings

router = APIRouter(prefix="/api/v1", tags=["security"])
OwnerAgent = Annotated[AgentPrincipal, require_role("owner")]


def _aad(user_id: uuid.UUID) -> bytes:
    # Binds the ciphertext to its user: a secret copied onto another user's row does not decrypt.
    return TOTP_SECRETS.aad(user_id)


async def _user(session: AsyncSession, agent: AgentPrincipal) -> User:
    user = await session.scalar(select(User).where(User.id == agent.user_id).with_for_update())
    if user is None:
        raise AppError(404, "not_found", "user not found")
    return user


async def verify_second_factor(session: AsyncSession, resources: ResourcesDep, row: UserTotp, code: str) -> str | None:
    """Checks a TOTP code (once per time step) or burns a recovery code; returns which one matched."""
    secret = resources.keyring.decrypt(row.secret_encrypted, _aad(row.user_id)).decode()
    step = totp.matching_step(secret, code, last_step=row.last_step)
    if step is not None:
        row.last_step = step
        return "totp"
    recovery = await session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == row.user_id,
            RecoveryCode.code_hash == totp.hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if recovery is not None:
        recovery.used_at = utcnow()
        return "recovery_code"
    return None


@router.post(
    "/auth/2fa/enroll",
    response_model=schemas.TotpEnrollment,
    responses=errors(conflict="totp_already_enabled: disable it first"),
)
async def enroll_totp(
    agent: CurrentAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> schemas.TotpEnrollment:
    async with atomic(session):
        user = await _user(session, agent)
        row = await session.get(UserTotp, user.id, with_for_update=True)
        if row is not None and row.confirmed_at is not None:
            raise AppError(409, "totp_already_enabled", "two-factor login is already on; disable it first")
        secret = totp.new_secret()
        encrypted = resources.keyring.encrypt(secret.encode(), _aad(user.id))
        if row is None:
            session.add(UserTotp(user_id=user.id, account_id=user.account_id, secret_encrypted=encrypted, last_step=0))
        else:
            row.secret_encrypted, row.last_step = encrypted, 0
        await audit.record(session, _event("2fa_enrollment_started", agent, request, resources))
    return schemas.TotpEnrollment(secret=secret, otpauth_uri=totp.provisioning_uri(secret, user.email))


@router.post(
    "/auth/2fa/confirm",
    response_model=schemas.TotpConfirmed,
    responses=errors(
        forbidden="invalid_totp: the code does not match (or the usual authorization refusals)",
        conflict="totp_not_enrolled (enroll first) or totp_already_enabled",
    ),
)
async def confirm_totp(
    body: schemas.TotpCode, agent: CurrentAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> schemas.TotpConfirmed:
    async with atomic(session):
        row = await session.get(UserTotp, agent.user_id, with_for_update=True)
        if row is None or row.account_id != agent.account_id:
            raise AppError(409, "totp_not_enrolled", "enroll first: POST /api/v1/auth/2fa/enroll")
        if row.confirmed_at is not None:
            raise AppError(409, "totp_already_enabled", "two-factor login is already on")
        secret = resources.keyring.decrypt(row.secret_encrypted, _aad(row.user_id)).decode()
        step = totp.matching_step(secret, body.code, last_step=row.last_step)
        if step is None:
            # 403, not 401: the session is fine, the code is not (a 401 would log the console out).
            raise AppError(403, "invalid_totp", "the code does not match; check the device clock")
        row.last_step, row.confirmed_at = step, utcnow()
        codes = totp.new_recovery_codes()
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == row.user_id))
        session.add_all(RecoveryCode(user_id=row.user_id, code_hash=totp.hash_recovery_code(c)) for c in codes)
        await audit.record(session, _event("2fa_enabled", agent, request, resources))
    return schemas.TotpConfirmed(recovery_codes=codes)


@router.post(
    "/auth/2fa/disable",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(
        unauthorized="invalid_credentials (the password) or invalid_totp (the code)",
        conflict="totp_not_enabled",
        too_many="rate_limited: too many wrong passwords (the login throttle); too_many_logins: this server has "
        "too many password checks in hand (Retry-After)",
    ),
)
async def disable_totp(
    body: schemas.TotpDisable,
    agent: CurrentAgent,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
) -> Response:
    user = await _user(session, agent)
    row = await session.get(UserTotp, user.id)
    if row is None or row.confirmed_at is None:
        raise AppError(409, "totp_not_enabled", "two-factor login is off")
    email, password_hash = user.email, user.password_hash
    await session.rollback()  # no lock or connection held while the password hash runs
    # Re-authentication: the password and a second factor, so a stolen session alone cannot turn it off; both
    # count against the login throttle, so a stolen session cannot guess the password here either.
    guard, address = password_throttle(resources, settings), _address(request, settings)
    attempt = await guard.begin(email, address)
    if not await _password_matches(passwords, guard, email, address, password_hash, body.password):
        await guard.failed(email, attempt)
        raise AppError(401, "invalid_credentials", "password is wrong")
    async with atomic(session):
        user = await _user(session, agent)
        row = await session.get(UserTotp, user.id, with_for_update=True)
        if row is None or row.confirmed_at is None:
            raise AppError(409, "totp_not_enabled", "two-factor login is off")
        if await verify_second_factor(session, resources, row, body.code) is None:
            await guard.failed(email, attempt)
            raise AppError(401, "invalid_totp", "the code does not match")
        await session.delete(row)
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        await audit.record(session, _event("2fa_disabled", agent, request, resources))
    await guard.succeeded(email, address)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/refresh",
    response_model=account_schemas.TokenResponse,
    responses=errors(
        unauthorized="invalid_refresh_token (unknown, expired or revoked) or refresh_token_reused (the session ends)"
    ),
)
async def refresh(
    body: schemas.RefreshRequest, request: Request, session: SessionDep, resources: ResourcesDep
) -> account_schemas.TokenResponse:
    async with atomic(session):
        outcome = await sessions.rotate(session, resources.settings, body.refresh_token)
        if isinstance(outcome, sessions.Reused) and outcome.newly_revoked:
            await audit.record(
                session,
                audit.event(
                    "refresh_token_reused",
                    account_id=outcome.account_id,
                    user_id=outcome.user_id,
                    connection=request,
                    trusted_proxies=resources.settings.trusted_proxies,
                    session_id=str(outcome.session_id),
                ),
            )
    if isinstance(outcome, sessions.Reused):
        await _announce(resources, outcome.account_id, outcome.user_id, outcome.session_id)
        raise AppError(
            401, "refresh_token_reused", "this refresh token was already used: the session is revoked, log in again"
        )
    return account_schemas.TokenResponse(
        access_token=outcome.access_token,
        refresh_token=outcome.refresh_token,
        expires_in=resources.settings.access_token_ttl_seconds,
    )


@router.get(
    "/auth/sessions",
    response_model=list[schemas.SessionOut],
    openapi_extra=provides(session_id="$response.body#/0/id"),
)
async def list_sessions(agent: CurrentAgent, session: SessionDep) -> list[schemas.SessionOut]:
    """The caller's own logins that still work, newest first (``current`` marks this one)."""
    rows = await session.scalars(
        select(AuthSession)
        .where(
            AuthSession.user_id == agent.user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.created_at.desc())
    )
    return [
        schemas.SessionOut(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            current=row.id == agent.session_id,
        )
        for row in rows
    ]


@router.delete("/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: uuid.UUID, agent: CurrentAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> Response:
    """Logs one of the caller's own logins out (its refresh token, access tokens and sockets)."""
    async with atomic(session):
        row = await session.scalar(
            select(AuthSession)
            .where(
                AuthSession.id == session_id,
                AuthSession.user_id == agent.user_id,
            )
            .with_for_update()
        )
        if row is None:
            raise AppError(404, "not_found", "session not found")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await audit.record(session, _event("session_revoked", agent, request, resources, session_id=str(row.id)))
    await _announce(resources, agent.account_id, agent.user_id, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(agent: CurrentAgent, request: Request, session: SessionDep, resources: ResourcesDep) -> Response:
    async with atomic(session):
        if agent.session_id is not None:
            await sessions.revoke(session, agent.user_id, agent.session_id)
        else:
            await sessions.revoke_all(session, await _user(session, agent))
        await audit.record(session, _event("logout", agent, request, resources))
    await _announce(resources, agent.account_id, agent.user_id, agent.session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_everywhere(
    agent: CurrentAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> Response:
    async with atomic(session):
        await sessions.revoke_all(session, await _user(session, agent))
        await audit.record(session, _event("logout_all", agent, request, resources))
    await _announce(resources, agent.account_id, agent.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(
        unauthorized="invalid_credentials: the current password is wrong",
        conflict="password_changed_meanwhile: log in again",
        too_many="rate_limited: too many wrong passwords (the login throttle); too_many_logins: this server has "
        "too many password checks in hand (Retry-After)",
    ),
)
async def change_password(
    body: schemas.PasswordChange,
    agent: CurrentAgent,
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    settings: SettingsDep,
    passwords: PasswordsDep,
) -> Response:
    user = await _user(session, agent)
    email, current_hash = user.email, user.password_hash
    await session.rollback()  # no lock or connection held while the password hashes run
    guard, address = password_throttle(resources, settings), _address(request, settings)
    attempt = await guard.begin(email, address)
    if not await _password_matches(passwords, guard, email, address, current_hash, body.current_password):
        await guard.failed(email, attempt)
        raise AppError(401, "invalid_credentials", "current password is wrong")
    try:
        new_hash = await passwords.hash(body.new_password)
    except AppError:  # too_many_logins: the right password stays uncounted, the client retries
        await guard.not_a_failure(email, address)
        raise
    async with atomic(session):
        user = await _user(session, agent)
        if user.password_hash != current_hash:
            raise AppError(409, "password_changed_meanwhile", "the password changed meanwhile: log in again")
        user.password_hash = new_hash
        # Every session and token ends: whoever knew the old password is out.
        await sessions.revoke_all(session, user)
        await audit.record(session, _event("password_changed", agent, request, resources))
    await guard.succeeded(email, address)
    await _announce(resources, agent.account_id, agent.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api-tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.ApiTokenCreated,
    openapi_extra=provides(token_id="$response.body#/id"),  # noqa: S106 - an id
)
async def create_api_token(
    body: schemas.ApiTokenCreate, admin: AdminAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> schemas.ApiTokenCreated:
    token = tag(resources.settings, secrets.token_urlsafe(32), API_TOKEN_PREFIX)  # sbt_eu.… with regions
    scopes = sorted(set(body.scopes))
    row = ApiToken(
        id=uuid.uuid4(),
        account_id=admin.account_id,
        created_by=admin.user_id,
        name=body.name,
        token_hash=hash_api_token(token),
        scopes=scopes,
    )
    async with atomic(session):
        session.add(row)
        await audit.record(
            session, _event("api_token_created", admin, request, resources, token_id=str(row.id), scopes=scopes)
        )
    return schemas.ApiTokenCreated(id=row.id, token=token, name=row.name, scopes=scopes)


@router.get(
    "/api-tokens",
    response_model=list[schemas.ApiTokenOut],
    openapi_extra=provides(token_id="$response.body#/0/id"),  # noqa: S106
)
async def list_api_tokens(admin: AdminAgent, session: SessionDep) -> list[schemas.ApiTokenOut]:
    rows = await session.scalars(select(ApiToken).order_by(ApiToken.created_at))
    return [schemas.ApiTokenOut.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/api-tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_token(
    token_id: uuid.UUID, admin: AdminAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> Response:
    async with atomic(session):
        row = await session.scalar(select(ApiToken).where(ApiToken.id == token_id).with_for_update())
        if row is None:
            raise AppError(404, "not_found", "API token not found")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await audit.record(session, _event("api_token_revoked", admin, request, resources, token_id=str(row.id)))
    await _announce(resources, admin.account_id)  # sockets opened with the token close
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/account/ip-allowlist", response_model=schemas.IpAllowlist)
async def get_ip_allowlist(admin: AdminAgent, session: SessionDep) -> schemas.IpAllowlist:
    account = await session.get(Account, admin.account_id)
    return schemas.IpAllowlist(cidrs=list((account.settings or {}).get("ip_allowlist") or []) if account else [])


@router.put("/account/ip-allowlist", response_model=schemas.IpAllowlist)
async def put_ip_allowlist(
    body: schemas.IpAllowlist, admin: AdminAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> schemas.IpAllowlist:
    async with atomic(session):
        account = await session.get(Account, admin.account_id, with_for_update=True)
        if account is None:
            raise AppError(404, "not_found", "account not found")
        account.settings = {**(account.settings or {}), "ip_allowlist": body.cidrs}
        await audit.record(session, _event("ip_allowlist_changed", admin, request, resources, networks=len(body.cidrs)))
    await _announce(resources, admin.account_id)  # sockets from addresses no longer allowed close
    return body


@router.get("/account/security-policy", response_model=schemas.SecurityPolicy)
async def get_security_policy(admin: AdminAgent, session: SessionDep) -> schemas.SecurityPolicy:
    account = await session.get(Account, admin.account_id)
    return schemas.SecurityPolicy(require_2fa=bool((account.settings or {}).get("require_2fa")) if account else False)


@router.put("/account/security-policy", response_model=schemas.SecurityPolicy)
async def put_security_policy(
    body: schemas.SecurityPolicy, owner: OwnerAgent, request: Request, session: SessionDep, resources: ResourcesDep
) -> schemas.SecurityPolicy:
    async with atomic(session):
        account = await session.get(Account, owner.account_id, with_for_update=True)
        if account is None:
            raise AppError(404, "not_found", "account not found")
        account.settings = {**(account.settings or {}), "require_2fa": body.require_2fa}
        await audit.record(
            session, _event("2fa_policy_changed", owner, request, resources, require_2fa=body.require_2fa)
        )
    await _announce(resources, owner.account_id)  # sockets of agents without 2FA close
    return body


@router.get("/account/security-events", response_model=list[schemas.SecurityEventOut])
async def security_events(
    admin: AdminAgent,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> list[schemas.SecurityEventOut]:
    query = select(SecurityEvent)
    if before_id is not None:
        query = query.where(SecurityEvent.id < before_id)
    rows = await session.scalars(query.order_by(SecurityEvent.id.desc()).limit(limit))
    return [schemas.SecurityEventOut.model_validate(r, from_attributes=True) for r in rows]


async def _announce(
    resources: ResourcesDep,
    account_id: uuid.UUID,
    user_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
) -> None:
    """After the commit: the concerned agent sockets on every replica re-check their credentials now."""
    await revocation.announce(
        resources.redis, resources.keys, revocation.Revocation(account_id, user_id=user_id, session_id=session_id)
    )


async def _password_matches(
    passwords: PasswordHashing,
    guard: LoginThrottle,
    email: str,
    address: str | None,
    password_hash: str | None,
    password: str,
) -> bool:
    """Verifies a password whose attempt the throttle counted; one refused unchecked (429 too_many_logins, the
    pool was full) is given back, as it never reached a verification."""
    try:
        return (await passwords.verify(password_hash, password)).matches
    except AppError:
        await guard.not_a_failure(email, address)
        raise


def _address(request: Request, settings: GatewaySettings) -> str | None:
    address = client_address(request, settings.trusted_proxies)
    return str(address) if address else None


def _event(
    kind: str, agent: AgentPrincipal, request: Request, resources: ResourcesDep, **details: object
) -> SecurityEvent:
    return audit.by(kind, agent, request, resources.settings.trusted_proxies, **details)
