"""Logins as rows: a short-lived access token (JWT carrying the session id) plus a rotating refresh token whose
SHA-256 is stored. Refreshing replaces the refresh token; presenting a replaced one again revokes the whole
session (someone copied it: OAuth 2.0 Security BCP, refresh token rotation with reuse detection); logout, password
change and "log out everywhere" revoke sessions, and with them their access tokens at once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Insert, bindparam, exists, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from switchboard_common.domain.accounts.models import (
    Account,
    AuthSession,
    SecurityEvent,
    SpentRefreshToken,
    User,
    UserTotp,
)
from switchboard_common.domain.accounts.tenancy import cross_tenant, scope_session
from switchboard_common.infra import tokens
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.regions import tag
from switchboard_common.infra.settings import CommonSettings

REFRESH_PREFIX = "sbr_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(settings: CommonSettings) -> str:
    # With several regions the token names its region (sbr_eu.…): a refresh reaching another region is relayed.
    return tag(settings, secrets.token_urlsafe(32), REFRESH_PREFIX)


def access_token(settings: CommonSettings, user: User, session_id: uuid.UUID) -> str:
    return _access_token(settings, user.id, user.account_id, user.role, user.token_version, session_id)


def _access_token(
    settings: CommonSettings,
    user_id: uuid.UUID,
    account_id: uuid.UUID,
    role: str,
    token_version: int,
    session_id: uuid.UUID,
) -> str:
    return tokens.issue(
        settings.secret_key,
        kind="agent",
        subject=user_id,
        account_id=account_id,
        ttl_seconds=settings.access_token_ttl_seconds,
        role=role,
        version=token_version,
        session_id=session_id,
    )


async def start(session: AsyncSession, settings: CommonSettings, user: User) -> tuple[str, str]:
    """A new login: returns (access token, refresh token)."""
    refresh = _new_refresh_token(settings)
    login = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        account_id=user.account_id,
        refresh_hash=_hash(refresh),
        expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
    )
    session.add(login)
    await session.flush()
    return access_token(settings, user, login.id), refresh


def _start_verified_statement() -> Insert:
    """One statement, one round trip, atomic: the session row and its ``login_succeeded`` audit row, written only
    if the user still is what the password check saw (same hash, role and token version, not deleted, account
    active, no second factor turned on meanwhile); otherwise nothing is written and no row comes back."""
    users, accounts, totp = User.__table__, Account.__table__, UserTotp.__table__
    still = (
        select(users.c.id, users.c.account_id)
        .join(accounts, accounts.c.id == users.c.account_id)
        .where(
            users.c.id == bindparam("user_id", type_=users.c.id.type),
            users.c.account_id == bindparam("account_id", type_=users.c.account_id.type),
            users.c.deleted_at.is_(None),
            users.c.password_hash == bindparam("password_hash"),
            users.c.role == bindparam("role"),
            users.c.token_version == bindparam("token_version"),
            accounts.c.status == "active",
            ~exists().where(
                totp.c.user_id == users.c.id,
                totp.c.account_id == bindparam("account_id", type_=users.c.account_id.type),
                totp.c.confirmed_at.is_not(None),
            ),
        )
        .cte("verified_user")
    )
    sessions_table = AuthSession.__table__
    started = (
        insert(AuthSession)
        .from_select(
            ["id", "user_id", "account_id", "refresh_hash", "expires_at", "created_at"],
            select(
                bindparam("session_id", type_=sessions_table.c.id.type),
                still.c.id,
                still.c.account_id,
                bindparam("refresh_hash", type_=sessions_table.c.refresh_hash.type),
                bindparam("expires_at", type_=sessions_table.c.expires_at.type),
                bindparam("now", type_=sessions_table.c.created_at.type),
            ),
        )
        .returning(sessions_table.c.id, sessions_table.c.user_id, sessions_table.c.account_id)
        .cte("started_session")
    )
    events = SecurityEvent.__table__
    return (
        insert(SecurityEvent)
        .from_select(
            ["account_id", "user_id", "kind", "ip_prefix", "details", "created_at"],
            select(
                started.c.account_id,
                started.c.user_id,
                literal("login_succeeded"),
                bindparam("ip_prefix", type_=events.c.ip_prefix.type),
                bindparam("details", type_=events.c.details.type),
                bindparam("now", type_=events.c.created_at.type),
            ),
        )
        .returning(events.c.id)
    )


_START_VERIFIED = _start_verified_statement()


@dataclass(frozen=True)
class VerifiedLogin:
    """The user as the password check read it (:func:`switchboard_gateway.accounts.service.find_login`)."""

    user_id: uuid.UUID
    account_id: uuid.UUID
    password_hash: str
    role: str
    token_version: int


async def start_verified(
    engine: AsyncEngine, settings: CommonSettings, login: VerifiedLogin, ip_prefix: str | None
) -> tuple[str, str] | None:
    """A new login without a second factor in one round trip (autocommit, a single atomic statement): returns
    (access token, refresh token), or None when the user changed while the password was being checked (then
    nothing was written, and the caller takes the full path that finds out what changed)."""
    refresh = _new_refresh_token(settings)
    session_id, now = uuid.uuid4(), utcnow()
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        written = (
            await autocommit.execute(
                _START_VERIFIED,
                {
                    "user_id": login.user_id,
                    "account_id": login.account_id,
                    "password_hash": login.password_hash,
                    "role": login.role,
                    "token_version": login.token_version,
                    "session_id": session_id,
                    "refresh_hash": _hash(refresh),
                    "expires_at": now + timedelta(seconds=settings.refresh_token_ttl_seconds),
                    "now": now,
                    "ip_prefix": ip_prefix,
                    "details": {},
                },
            )
        ).first()
    if written is None:
        return None
    token = _access_token(settings, login.user_id, login.account_id, login.role, login.token_version, session_id)
    return token, refresh


@dataclass(frozen=True)
class Rotated:
    user: User
    access_token: str
    refresh_token: str


@dataclass(frozen=True)
class Reused:
    """A refresh token that was already rotated away came back: someone holds a copy. Its session is revoked
    (``newly_revoked`` unless it already was), so the thief and the user are both logged out."""

    user_id: uuid.UUID
    account_id: uuid.UUID
    session_id: uuid.UUID
    newly_revoked: bool


async def rotate(session: AsyncSession, settings: CommonSettings, refresh: str) -> Rotated | Reused:
    presented = _hash(refresh)
    # The lookups that find the account (by the token's hash, across accounts); then the session is its account's.
    login = await session.scalar(
        cross_tenant(select(AuthSession).where(AuthSession.refresh_hash == presented).with_for_update())
    )
    now = utcnow()
    if login is None:
        spent = await session.scalar(
            cross_tenant(select(SpentRefreshToken).where(SpentRefreshToken.refresh_hash == presented))
        )
        if spent is None:
            raise AppError(401, "invalid_refresh_token", "refresh token is invalid, expired or revoked")
        scope_session(session, spent.account_id)
        stolen = await session.get(AuthSession, spent.session_id, with_for_update=True)
        assert stolen is not None  # spent tokens go with their session (ON DELETE CASCADE)
        newly = stolen.revoked_at is None
        if newly:
            stolen.revoked_at = now
        return Reused(user_id=stolen.user_id, account_id=stolen.account_id, session_id=stolen.id, newly_revoked=newly)
    if login.revoked_at is not None or login.expires_at <= now:
        raise AppError(401, "invalid_refresh_token", "refresh token is invalid, expired or revoked")
    scope_session(session, login.account_id)
    user = await session.get(User, login.user_id)
    if user is None or user.deleted_at is not None:
        raise AppError(401, "invalid_refresh_token", "refresh token is invalid, expired or revoked")
    new_refresh = _new_refresh_token(settings)
    # Remembered, so that a copy presented later is recognized as reuse rather than as an unknown token.
    session.add(SpentRefreshToken(refresh_hash=login.refresh_hash, session_id=login.id, account_id=login.account_id))
    login.refresh_hash = _hash(new_refresh)
    login.last_used_at = now
    return Rotated(user, access_token(settings, user, login.id), new_refresh)


async def revoke(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_all(session: AsyncSession, user: User) -> None:
    """Every session, and every access token ever issued to the user (token_version)."""
    user.token_version += 1
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
