"""Tables. Every tenant-owned row carries ``account_id``; queries are scoped by it (see tenancy docs).

Ownership (who writes): the gateway writes accounts, users, inboxes and agent messages; the ingest path
(gateway widget endpoints, connectors) writes contacts, identities and creates conversations; the gateway
timeline consumer writes inbound messages; the router writes assignment state.
"""

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
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.db.base import Base, Timestamps, UUIDPk, utcnow


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
    # Secrets (tokens, signing secrets), encrypted with the keyring (switchboard_common.crypto).
    secrets_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    routing: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class ChannelClaim(Base):
    """A channel identity connected in this installation, at most once (the primary key): a Messenger page
    (``messenger:page:{id}``) or a Slack channel (``slack:channel:{team}:{channel}``) to one inbox, a Slack
    workspace (``slack:team:{team}``) to one account (``inbox_id`` empty). Webhooks are routed through these
    rows, never by a setting any inbox may name (``switchboard_common.channel_claims``)."""

    __tablename__ = "channel_claims"

    claim: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    inbox_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("inboxes.id", ondelete="CASCADE"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Contact(UUIDPk, Timestamps, Base):
    __tablename__ = "contacts"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Do-not-sell/share: nothing about this contact leaves the account through exports or integrations.
    sharing_opt_out: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class ContactIdentity(UUIDPk, Timestamps, Base):
    """One channel identity (widget visitor, Slack user, Messenger PSID, ...) of a contact."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("account_id", "channel", "external_id", name="uq_identity_external"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))


class Conversation(UUIDPk, Timestamps, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # At most one unresolved conversation per contact and inbox: concurrent first messages share it.
        Index(
            "uq_conversations_open_per_contact",
            "inbox_id",
            "contact_id",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_conversations_account_status", "account_id", "status"),
        Index("ix_conversations_assignee", "assignee_id", postgresql_where=text("assignee_id IS NOT NULL")),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    queued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    routing_explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Bumped on every (re)assignment; part of the assignment event's id, so a replay is recognisable.
    assignment_version: Mapped[int] = mapped_column(Integer, default=0)
    # The agent the gateway timeline has announced the conversation to, set in event order: messages are
    # pushed to this agent, so nobody sees a message before (or twice with) its conversation.assigned frame.
    timeline_assignee_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    # Routing (see docs/routing.md): the team it is routed to, skills it needs or prefers, snooze wake-up.
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), nullable=True)
    routing_requirements: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    snoozed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # When an agent last read it (unread counts in the console count the customer's messages after this).
    agent_last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The contact's resolved conversation in this inbox that this one follows (shown to the agent as a link).
    previous_conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )


class Message(Timestamps, Base):
    """A message. The id is chosen by the ingest path (deterministic for retried channel messages)."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        Index("ix_messages_external", "account_id", "external_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(10))
    sender_type: Mapped[str] = mapped_column(String(10))
    sender_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    delivery_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    delivery_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Private: for the account's agents only (transfer notes); never delivered or shown to the customer.
    private: Mapped[bool] = mapped_column(default=False, server_default="false")


class OutboxEvent(Base):
    """Events written in the same transaction as the state they announce (transactional outbox).

    Published right after commit; a relay publishes whatever a crash left behind, so a committed change
    always reaches Kafka. Consumers are idempotent by event id, so a double publish changes nothing.
    """

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookSubscription(UUIDPk, Timestamps, Base):
    """An account's outgoing webhook: signed POSTs of chosen events to a URL."""

    __tablename__ = "webhook_subscriptions"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSONB, default=list)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)


class WebhookDelivery(Base):
    """One outgoing signed POST (API inbox callback or account webhook), retried from here, never from memory.

    ``id`` orders deliveries: a target gets one conversation's deliveries in order.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_target", "target_id", "conversation_id", "id"),
        Index("uq_webhook_deliveries_target_event", "target_id", "event_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(20))  # "inbox_callback" or "subscription"
    target_id: Mapped[uuid.UUID] = mapped_column()
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    event_id: Mapped[uuid.UUID] = mapped_column()
    event_type: Mapped[str] = mapped_column(String(64))
    # The exact body that is signed and sent (it may hold message text: erased with its conversation).
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)


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


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(100), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class AgentRoutingState(Base):
    """Per-agent routing state: when the agent last got a conversation (round robin, idle tie-break)."""

    __tablename__ = "agent_routing_state"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    last_assigned_at: Mapped[datetime | None] = mapped_column(nullable=True)


class RoutingTimer(Base):
    """A due-time row (offer expiry, snooze wake-up, no-reply, auto-resolve, escalation, business hours).

    One per conversation and kind; router replicas claim due rows with ``FOR UPDATE SKIP LOCKED``.
    """

    __tablename__ = "routing_timers"
    __table_args__ = (
        UniqueConstraint("conversation_id", "kind", name="uq_routing_timers_conversation_kind"),
        Index("ix_routing_timers_due_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column()
    agent_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    # The conversation's assignment_version when scheduled: a timer outlived by a reassignment does nothing.
    version: Mapped[int] = mapped_column(Integer, default=0)


class RoutingHistory(Base):
    """Every routing decision and its reason (assigned, queued, offered, offer_missed, no_reply, ...)."""

    __tablename__ = "routing_history"
    __table_args__ = (Index("ix_routing_history_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(30))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


# --- privacy (services/privacy, docs/privacy.md) -------------------------------------------------------


class SubjectKey(Base):
    """A data subject's key for the personal fields of events (crypto-shredding, switchboard_common.shredding)."""

    __tablename__ = "subject_keys"

    ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # Wrapped with the keyring, bound to ``ref``.
    key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class SpamTokenStat(Base):
    """Per-account naive Bayes counts: how often a token appeared in spam and in ham messages.

    The row with token ``""`` holds the number of spam and ham documents learned.
    """

    __tablename__ = "spam_token_stats"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    spam: Mapped[int] = mapped_column(BigInteger, default=0)
    ham: Mapped[int] = mapped_column(BigInteger, default=0)


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
