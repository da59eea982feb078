"""Login: throttled per account and per address (Redis), second factor when enabled, a session per login,
every outcome in the security audit.

A login's own work on the event loop is kept to a few round trips, because a flood of logins shares the loop
with every agent socket of the replica (the password check itself runs in worker processes): one Redis script
counts the attempt, one statement reads the user, its account and its second-factor state, and -- for the
common login without a second factor -- one statement writes the session and its audit row together, then one
Redis script settles the throttle. A second factor, a hash to replace, or a user that changed while the password
was being checked take the full path through the ORM session."""

from __future__ import annotations

import contextlib
import uuid

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import SecurityEvent, User, UserTotp
from switchboard_common.infra.clientip import address_prefix, client_address
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.runtime import Resources

from switchboard_gateway.accounts import schemas, service
from switchboard_gateway.accounts.passwords import PasswordHashing, Verification
from switchboard_gateway.ratelimit import LoginThrottle
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
    email = service.normalize_email(body.email)
    passwords.refuse_if_full()
    # Counted before the password is checked (or 429): a parallel burst verifies at most the lockout count.
    attempt = await Attempt.begin(resources, settings, request, email, str(address) if address else None)

    # Read before the slow check, on a connection given back at once: a login flood holds no database
    # connections while it waits for the hashing workers.
    found = await service.find_login(resources.engine, email)
    try:
        # An unknown e-mail is checked against a dummy hash: it takes as long.
        verification = await passwords.verify(found.password_hash if found else None, body.password)
    except AppError:
        await attempt.not_a_failure()  # never checked (too_many_logins: the pool was full)
        raise
    if not verification.matches or found is None or found.deleted:
        error = AppError(401, "invalid_credentials", "e-mail or password is wrong")
        raise await attempt.fail(error, "login_failed", (found.account_id, found.user_id) if found else None)
    try:
        service.refuse_inactive_account(found)
    except AppError:
        await attempt.not_a_failure()  # the password was right: a suspended account is no failure
        raise

    tokens = None
    if not found.second_factor and not verification.needs_rehash:
        verified = sessions.VerifiedLogin(
            found.user_id, found.account_id, found.password_hash, found.role, found.token_version
        )
        tokens = await sessions.start_verified(resources.engine, settings, verified, address_prefix(address))
    if tokens is None:
        tokens = await _login_in_session(body, session, passwords, found, verification, attempt)
    await attempt.succeeded()
    access, refresh = tokens
    return schemas.TokenResponse(
        access_token=access, refresh_token=refresh, expires_in=settings.access_token_ttl_seconds
    )


class Attempt:
    """One counted password attempt of a login, and how it ends (the throttle's and the audit's side)."""

    def __init__(
        self,
        guard: LoginThrottle,
        count: int,
        email: str,
        address: str | None,
        request: Request,
        resources: Resources,
        settings: GatewaySettings,
    ) -> None:
        self.guard, self.count, self.email, self.address = guard, count, email, address
        self.request, self.resources, self.settings = request, resources, settings

    @classmethod
    async def begin(
        cls, resources: Resources, settings: GatewaySettings, request: Request, email: str, address: str | None
    ) -> Attempt:
        guard = password_throttle(resources, settings)
        return cls(guard, await guard.begin(email, address), email, address, request, resources, settings)

    async def not_a_failure(self) -> None:
        await self.guard.not_a_failure(self.email, self.address)

    async def succeeded(self) -> None:
        await self.guard.succeeded(self.email, self.address)

    async def fail(self, error: AppError, kind: str, who: tuple[uuid.UUID, uuid.UUID] | None) -> AppError:
        """Stays counted (with its backoff) and is audited in a transaction of its own; returns ``error``."""
        await self.guard.failed(self.email, self.count)
        await audit.record_now(
            self.resources.sessionmaker,
            audit.event(
                kind,
                account_id=who[0] if who else None,
                user_id=who[1] if who else None,
                connection=self.request,
                trusted_proxies=self.settings.trusted_proxies,
            ),
        )
        return error


async def _login_in_session(
    body: schemas.LoginRequest,
    session: AsyncSession,
    passwords: PasswordHashing,
    found: service.LoginCandidate,
    verification: Verification,
    attempt: Attempt,
) -> tuple[str, str]:
    """The full path, in one transaction of the request's session: the second factor (its row locked, so a code
    is accepted once), a hash made with older parameters replaced, and whatever changed during the check."""
    # A hash made with older parameters is replaced now, while the password is at hand (committed with the
    # login's session); a full pool keeps the old hash until a later login.
    new_hash = None
    if verification.needs_rehash:
        with contextlib.suppress(AppError):
            new_hash = await passwords.hash(body.password)
    async with atomic(session):
        try:
            user = await service.load_verified_user(session, found, new_hash)
        except AppError as exc:
            await session.rollback()
            if exc.code != "invalid_credentials":  # the password was right (a suspended account)
                await attempt.not_a_failure()
                raise
            raise await attempt.fail(exc, "login_failed", (found.account_id, found.user_id)) from None
        second = await session.get(UserTotp, user.id, with_for_update=True)
        if second is not None and second.confirmed_at is not None:
            if not body.totp_code:
                # The password was right: not counted as a failure, the client just asks for the code.
                await attempt.not_a_failure()
                raise AppError(401, "totp_required", "two-factor login is on: send totp_code")
            used = await verify_second_factor(session, attempt.resources, second, body.totp_code)
            if used is None:
                who = (user.account_id, user.id)
                await session.rollback()
                raise await attempt.fail(
                    AppError(401, "invalid_totp", "the code does not match"), "login_totp_failed", who
                )
            if used == "recovery_code":
                await audit.record(session, _event("recovery_code_used", user, attempt))
        started = await sessions.start(session, attempt.settings, user)
        await audit.record(session, _event("login_succeeded", user, attempt))
    return started


def _event(kind: str, user: User, attempt: Attempt) -> SecurityEvent:
    return audit.event(
        kind,
        account_id=user.account_id,
        user_id=user.id,
        connection=attempt.request,
        trusted_proxies=attempt.settings.trusted_proxies,
    )
