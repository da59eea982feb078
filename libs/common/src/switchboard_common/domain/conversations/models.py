"""Tables of conversations: conversations, messages, and the router's state (skills, agent state, timers, history)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.domain.search.languages import config_case_sql
from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk, utcnow


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
        # What rows of the conversation's account name it by (conversation_labels): never another account's.
        UniqueConstraint("id", "account_id", name="uq_conversations_id_account"),
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
        Index("ix_messages_search", "search_vector", postgresql_using="gin"),
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
    # Private: a note for the account's agents only; never delivered or shown to the customer.
    private: Mapped[bool] = mapped_column(default=False, server_default="false")
    # The agents a note mentions (``@name``), told on their socket.
    mentions: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    # Language code of the text (switchboard_common.domain.search.languages): picks its search dictionary.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # The full-text index of the text, kept by PostgreSQL itself: a text erased or deleted leaves nothing here.
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR,
        Computed(f"to_tsvector({config_case_sql('language')}, coalesce(text, ''))", persisted=True),
        nullable=True,
    )


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
    """A due-time row (offer expiry, snooze wake-up, no-reply, auto-resolve, escalation, business hours; the
    lifecycle's timers). One per conversation and kind; the account's routing writer holds them in memory and
    fires them, and reads them back when it takes the account over.
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


class RoutingWriter(Base):
    """The account's routing writer: the router replica that owns its partition of the routing topic.

    ``epoch`` rises on every takeover; each write of the writer checks it in the same transaction (fencing,
    docs/routing.md), so a replica that lost the account can no longer write. ``applied_offset`` is the last
    routing command (in ``applied_partition``) whose effects are committed: a replay skips it.
    """

    __tablename__ = "routing_writers"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(200))
    taken_over_at: Mapped[datetime] = mapped_column()
    applied_partition: Mapped[int | None] = mapped_column(Integer, nullable=True)
    applied_offset: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


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
