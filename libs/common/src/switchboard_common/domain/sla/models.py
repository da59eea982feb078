"""Tables of service levels: policies, what they apply to, and each conversation's clocks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk, utcnow


class SlaPolicy(UUIDPk, Timestamps, Base):
    """Targets in seconds (null: no target); clocks count only business hours when ``business_hours_only``."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_sla_policies_account_name"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    first_response_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_response_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    business_hours_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Statuses during which the clocks stop (a subset of pending, snoozed).
    pause_statuses: Mapped[list[str]] = mapped_column(JSONB, default=lambda: ["pending", "snoozed"])
    # A breach raises the conversation's queue priority by this much (0: it does not).
    raise_priority: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SlaPolicyTarget(Base):
    """What a policy applies to: an inbox, a team or a label (each at most one policy of the account)."""

    __tablename__ = "sla_policy_targets"
    __table_args__ = (UniqueConstraint("account_id", "kind", "ref", name="uq_sla_policy_targets_account_kind_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sla_policies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # inbox, team, label
    ref: Mapped[str] = mapped_column(String(200))  # the inbox or team id, or the label's name


class ConversationSla(Base):
    """One conversation's SLA clocks (switchboard_common.domain.sla.clock) and breaches; timestamps only.

    ``check_at`` is the durable timer: router replicas take due rows with ``FOR UPDATE SKIP LOCKED``.
    """

    __tablename__ = "conversation_sla"
    __table_args__ = (Index("ix_conversation_sla_check_at", "check_at", postgresql_where=text("check_at IS NOT NULL")),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), nullable=True
    )
    # Where the conversation is routed now (inbox and team policies match them), kept from its events.
    inbox_id: Mapped[uuid.UUID] = mapped_column()
    team_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The labels the conversation carries (from conversation.labels_changed): label policies match them.
    labels: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=text("'[]'"))
    breached: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # The SLA as last computed (the conversation object's ``sla``), and when to compute it again.
    summary: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    check_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
