"""Logins as rows: a short-lived access token (JWT carrying the session id) plus a rotating refresh token whose
SHA-256 is stored. Refreshing replaces the refresh token (an old one no longer works); logout, password
change and "log out everywhere" revoke sessions, and with them their access tokens at once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common import tokens
from switchboard_common.db.base import utcnow
from switchboard_common.db.models import AuthSession, User
from switchboard_common.errors import AppError
from switchboard_common.settings import CommonSettings

REFRESH_PREFIX = "sbr_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


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
    refresh = _new_refresh_token()
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


async def rotate(session: AsyncSession, settings: CommonSettings, refresh: str) -> tuple[User, str, str]:
    login = await session.scalar(
        select(AuthSession).where(AuthSession.refresh_hash == _hash(refresh)).with_for_update()
    )
    now = utcnow()
    if login is None or login.revoked_at is not None or login.expires_at <= now:
        raise AppError(401, "invalid_refresh_token", "refresh token is invalid, expired or revoked")
    user = await session.get(User, login.user_id)
    if user is None or user.deleted_at is not None:
        raise AppError(401, "invalid_refresh_token", "refresh token is invalid, expired or revoked")
    new_refresh = _new_refresh_token()
    login.refresh_hash = _hash(new_refresh)
    login.last_used_at = now
    return user, access_token(settings, user, login.id), new_refresh


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
