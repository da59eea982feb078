"""Table of satisfaction surveys: one per resolved conversation, asked in its channel, answered once or more."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, utcnow


class CsatSurvey(Base):
    """``scheduled`` (``send_at``) -> ``sent`` -> ``answered`` (the last answer within a day wins).

    The row goes with its conversation (erasure and retention find it by ``conversation_id``); the reports
    keep only the rating's count and sum (switchboard_common.domain.reports).
    """

    __tablename__ = "csat_surveys"
    __table_args__ = (Index("ix_csat_surveys_due", "send_at", postgresql_where=text("status = 'scheduled'")),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column()
    channel: Mapped[str] = mapped_column(String(20))
    # The agent who resolved it (the rating is theirs in the reports).
    agent_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    question: Mapped[str] = mapped_column(Text)
    send_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
