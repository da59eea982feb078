"""Tables of accounts: the account, its users (owners, admins, agents), teams, sign-in state and security events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk, utcnow


class Account(UUIDPk, Timestamps, Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    # Default concurrent conversations per agent when the agent has no own limit.
    default_max_conversations: Mapped[int] = mapped_column(Integer, default=5)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Lifecycle (privacy service, docs/privacy.md): trial -> paid; suspended -> terminated -> purged.
    plan: Mapped[str] = mapped_column(String(20), default="trial", server_default=text("'trial'"))
    trial_ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    billing_failing_since: Mapped[datetime | None] = mapped_column(nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    suspension_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    terminated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class User(UUIDPk, Timestamps, Base):
    """An agent, admin or owner of one account."""

    __tablename__ = "users"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    max_conversations: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Bumped to revoke every token issued before (password change, logout everywhere).
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Team(UUIDPk, Timestamps, Base):
    """A group of agents that inboxes route to; ``strategy`` overrides the inbox's when set."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_teams_account_name"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    strategy: Mapped[str | None] = mapped_column(String(20), nullable=True)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class UserTotp(Base):
    """A user's TOTP secret (encrypted with the keyring); 2FA is on once ``confirmed_at`` is set."""

    __tablename__ = "user_totp"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The last accepted TOTP step: a code is accepted once (no replay inside its 30 s window).
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecoveryCode(UUIDPk, Base):
    """One-time 2FA recovery code, stored as a SHA-256 hash (the codes are random, so no slow hash needed)."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AuthSession(UUIDPk, Timestamps, Base):
    """A login: access tokens carry its id; its rotating refresh token is stored as a hash."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    refresh_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class SpentRefreshToken(Base):
    """A refresh token that was rotated away: presenting it again means it was copied (OAuth 2.0 Security BCP),
    and its whole session is revoked."""

    __tablename__ = "spent_refresh_tokens"

    refresh_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    spent_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(UUIDPk, Timestamps, Base):
    """An integration's bearer token (``sbt_...``), stored as a SHA-256 hash, scoped read/write/privacy."""

    __tablename__ = "api_tokens"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class SecurityEvent(Base):
    """Audit of security events (logins, 2FA, tokens, roles, allowlist): ids and kinds, never secrets."""

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    # A truncated address (/24 or /48): enough to spot a pattern, not enough to identify a person.
    ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
