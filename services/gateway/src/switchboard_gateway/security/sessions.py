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

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import AuthSession, SpentRefreshToken, User
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
    return tokens.issue(
        settings.secret_key,
        kind="agent",
        subject=user.id,
        account_id=user.account_id,
        ttl_seconds=settings.access_token_ttl_seconds,
        role=user.role,
        version=user.token_version,
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
