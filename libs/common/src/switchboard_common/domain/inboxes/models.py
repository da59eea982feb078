"""Tables of inboxes: channel settings with encrypted secrets, bot configuration, Slack mirror threads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk, utcnow


class Inbox(UUIDPk, Timestamps, Base):
    __tablename__ = "inboxes"
    __table_args__ = (
        Index("ix_inboxes_channel_team", "channel", text("(settings->>'team_id')")),
        Index("ix_inboxes_channel_page", "channel", text("(settings->>'page_id')")),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    widget_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # Non-secret channel settings (team_id, page_id, callback_url, ...).
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Secrets (tokens, signing secrets), encrypted with the keyring (switchboard_common.infra.crypto).
    secrets_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    routing: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class SlackMirrorMessage(UUIDPk, Timestamps, Base):
    """Every message the product wrote into Slack (agents' workspace): erasure deletes these through Slack."""

    __tablename__ = "slack_mirror_messages"
    __table_args__ = (
        Index("ix_slack_mirror_conversation", "account_id", "conversation_id"),
        UniqueConstraint("slack_channel_id", "slack_ts", name="uq_slack_mirror_ts"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column()
    conversation_id: Mapped[uuid.UUID] = mapped_column()
    message_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)  # null: the thread parent
    inbox_id: Mapped[uuid.UUID] = mapped_column()  # the Slack inbox whose bot token posted it
    slack_channel_id: Mapped[str] = mapped_column(String(32))
    slack_ts: Mapped[str] = mapped_column(String(32))


class InboxBot(Base):
    """An inbox's bot (Dialogflow): new conversations start with it (status "bot") until it hands off.

    Only the OAuth client credentials and refresh token are stored, encrypted with AAD ``inbox-bot:{inbox}``.
    """

    __tablename__ = "inbox_bots"

    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    # project_id, language_code, handoff_intents, confidence_threshold, handoff_payload_key, ...
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    secrets_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Set when the provider refused our credentials (e.g. a revoked refresh token): conversations go to humans.
    broken_reason: Mapped[str | None] = mapped_column(String(60), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ChannelClaim(Base):
    """A channel identity connected in this installation, at most once (the primary key): a Messenger page
    (``messenger:page:{id}``) or a Slack channel (``slack:channel:{team}:{channel}``) to one inbox, a Slack
    workspace (``slack:team:{team}``) to one account (``inbox_id`` empty). Webhooks are routed through these
    rows, never by a setting any inbox may name (``switchboard_common.domain.inboxes.channel_claims``)."""

    __tablename__ = "channel_claims"
    # Every account's claims are read to refuse a second claim and to route webhooks (tenancy: not scoped).
    __tenant_scoped__ = False

    claim: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    inbox_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("inboxes.id", ondelete="CASCADE"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
