"""Per-account token counts of the spam filter."""

from __future__ import annotations

import uuid

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base


class SpamTokenStat(Base):
    """Per-account naive Bayes counts: how often a token appeared in spam and in ham messages.

    The row with token ``""`` holds the number of spam and ham documents learned.
    """

    __tablename__ = "spam_token_stats"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    spam: Mapped[int] = mapped_column(BigInteger, default=0)
    ham: Mapped[int] = mapped_column(BigInteger, default=0)
