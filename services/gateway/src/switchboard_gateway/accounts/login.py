"""Login: throttled per account and per address (Redis), second factor when enabled, a session per login,
every outcome in the security audit."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import SecurityEvent, User, UserTotp
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.infra.clientip import client_address
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.runtime import Resources

from switchboard_gateway.accounts import schemas, service
from switchboard_gateway.accounts.passwords import PasswordHashing
from switchboard_gateway.security import audit, sessions
from switchboard_gateway.security.throttle import password_throttle
from switchboard_gateway.security.views import verify_second_factor
from switchboard_gateway.settings import GatewaySettings


async def login(
    body: schemas.LoginRequest,
    request: Request,
    session: AsyncSession,
    resources: Resources,
    settings: GatewaySettings,
    passwords: PasswordHashing,
) -> schemas.TokenResponse:
    address = client_address(request, settings.trusted_proxies)
    address_key = str(address) if address else None
    guard = password_throttle(resources, settings)
    email = service.normalize_email(body.email)
    passwords.refuse_if_full()
    # Counted before the password is checked (or 429): a parallel burst verifies at most the lockout count.
    attempt = await guard.begin(email, address_key)

    async def fail(error: AppError, kind: str, who: tuple[uuid.UUID, uuid.UUID] | None) -> AppError:
        await guard.failed(email, attempt)
        await audit.record_now(
            resources.sessionmaker,
            audit.event(
                kind,
                account_id=who[0] if who else None,
                user_id=who[1] if who else None,
                connection=request,
                trusted_proxies=settings.trusted_proxies,
            ),
        )
        return error

    try:
        user = await service.authenticate(session, passwords, email, body.password)
    except AppError as exc:
        await session.rollback()
        if exc.code != "invalid_credentials":
            # The password was right (e.g. a suspended account), or never checked (too_many_logins: the pool
            # was full): the attempt is given back either way.
            await guard.not_a_failure(email, address_key)
            raise
        known = (
            await session.execute(cross_tenant(select(User.account_id, User.id).where(func.lower(User.email) == email)))
        ).first()
        await session.rollback()
        raise await fail(exc, "login_failed", (known[0], known[1]) if known else None) from None

    async with atomic(session):
        second = await session.get(UserTotp, user.id, with_for_update=True)
        if second is not None and second.confirmed_at is not None:
            if not body.totp_code:
                # The password was right: not counted as a failure, the client just asks for the code.
                await guard.not_a_failure(email, address_key)
                raise AppError(401, "totp_required", "two-factor login is on: send totp_code")
            used = await verify_second_factor(session, resources, second, body.totp_code)
            if used is None:
                who = (user.account_id, user.id)
                await session.rollback()
                raise await fail(AppError(401, "invalid_totp", "the code does not match"), "login_totp_failed", who)
            if used == "recovery_code":
                await audit.record(session, _event("recovery_code_used", user, request, settings))
        access, refresh = await sessions.start(session, settings, user)
        await audit.record(session, _event("login_succeeded", user, request, settings))
    await guard.succeeded(email, address_key)
    return schemas.TokenResponse(
        access_token=access, refresh_token=refresh, expires_in=settings.access_token_ttl_seconds
    )


def _event(kind: str, user: User, request: Request, settings: GatewaySettings) -> SecurityEvent:
    return audit.event(
        kind,
        account_id=user.account_id,
        user_id=user.id,
        connection=request,
        trusted_proxies=settings.trusted_proxies,
    )
