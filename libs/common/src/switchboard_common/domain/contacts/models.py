"""Tables of contacts: one contact, many channel identities."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk


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
