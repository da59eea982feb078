"""Tables of contacts: one contact, many channel identities."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Computed,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk

# What search finds a contact by: name, e-mail, phone and the values of its custom attributes (an order number).
CONTACT_SEARCH_SQL = (
    "to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) || "
    "jsonb_to_tsvector('simple', custom_attributes, '[\"string\", \"numeric\"]')"
)


class Contact(UUIDPk, Timestamps, Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_search", "search_vector", postgresql_using="gin"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Do-not-sell/share: nothing about this contact leaves the account through exports or integrations.
    sharing_opt_out: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Free-form attributes an account keeps about a contact (plan, order number): string keys, scalar values.
    custom_attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed(CONTACT_SEARCH_SQL, persisted=True), nullable=True
    )


class ContactIdentity(UUIDPk, Timestamps, Base):
    """One channel identity (widget visitor, Slack user, Messenger PSID, ...) of a contact."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("account_id", "channel", "external_id", name="uq_identity_external"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))


class ContactNote(UUIDPk, Timestamps, Base):
    """A free-form note agents keep about a contact (shown in the console's contact panel)."""

    __tablename__ = "contact_notes"
    __table_args__ = (Index("ix_contact_notes_contact", "contact_id", "created_at"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    text: Mapped[str] = mapped_column(Text)
