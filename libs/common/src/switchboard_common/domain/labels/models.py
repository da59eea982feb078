"""Tables of labels: the account's labels and which conversation carries which."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk, utcnow


class Label(UUIDPk, Timestamps, Base):
    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("account_id", "name", name="uq_labels_account_name"),
        UniqueConstraint("id", "account_id", name="uq_labels_id_account"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # Lower-case, no spaces (``billing``, ``vip-customer``): what filters and routing rules name.
    name: Mapped[str] = mapped_column(String(50))
    color: Mapped[str] = mapped_column(String(7), default="#6b7280")
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ConversationLabel(Base):
    """A label on a conversation. The label and the conversation belong to the row's account, which the
    database holds (foreign keys on ``(id, account_id)``): no query has to compare two accounts' columns to keep
    another account's label off a conversation."""

    __tablename__ = "conversation_labels"
    __table_args__ = (
        Index("ix_conversation_labels_label", "label_id", "conversation_id"),
        ForeignKeyConstraint(
            ["conversation_id", "account_id"],
            ["conversations.id", "conversations.account_id"],
            name="fk_conversation_labels_conversation_account",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["label_id", "account_id"],
            ["labels.id", "labels.account_id"],
            name="fk_conversation_labels_label_account",
            ondelete="CASCADE",
        ),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    label_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
