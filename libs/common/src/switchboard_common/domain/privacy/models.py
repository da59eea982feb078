"""Tables of the privacy service: requests, the audit log, consent records, retention policies, erased statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk, utcnow


class PrivacyRequest(UUIDPk, Timestamps, Base):
    """A data-subject request (erasure, access, rectification), worked through per store by leased workers."""

    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_account_created", "account_id", "created_at"),
        Index("ix_privacy_requests_runnable", "status", "next_attempt_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="received")
    # Who the request is about; scrubbed to ids once an erasure completes.
    subject: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    contact_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    due_at: Mapped[datetime] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # store -> {"status": pending|done|failed, "counts": {...}, "attempts": n, "error": class name}
    progress: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Copies that could not be deleted (GDPR Art. 19), export file, certificate.
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)


class PrivacyAuditEntry(Base):
    """Append-only (a trigger rejects UPDATE and DELETE): who did what to which request, counts, never data."""

    __tablename__ = "privacy_audit_log"
    __table_args__ = (Index("ix_privacy_audit_log_account", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # No foreign keys: the trail outlives the account it is about.
    account_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    request_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentRecord(UUIDPk, Base):
    """A consent a contact gave (pre-chat, with the text version shown), or withdrew."""

    __tablename__ = "consent_records"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    inbox_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("inboxes.id", ondelete="SET NULL"), nullable=True)
    kind: Mapped[str] = mapped_column(String(30))
    version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    granted: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionPolicy(Base):
    """How long an account keeps one data category (messages, attachments, closed_conversations, ...)."""

    __tablename__ = "retention_policies"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ErasedStatistic(Base):
    """Aggregates that survive erasure and retention: counts per account, day and kind, no person."""

    __tablename__ = "erased_statistics"

    account_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[datetime] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
