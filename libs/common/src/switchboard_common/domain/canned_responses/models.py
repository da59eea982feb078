"""Table of canned responses."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, Timestamps, UUIDPk


class CannedResponse(UUIDPk, Timestamps, Base):
    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("account_id", "short_code", name="uq_canned_responses_short_code"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    short_code: Mapped[str] = mapped_column(String(50))
    # May hold ``{{contact.name}}`` and ``{{agent.name}}``, filled in when inserted into a reply.
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
