"""Tables of reports: aggregates only. Rollups and histograms hold counts per hour and dimension (agent, team,
inbox, channel, label) and nothing about a person: no contact, no text, no conversation id. Erasure and
retention never touch them, so history's counts stay as they were.

``report_conversations`` is the rollup consumer's working memory per open conversation (timestamps and
dimension ids only), found and removed by erasure like every table with a ``conversation_id``;
``report_seen_events`` makes the consumer count each event once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from switchboard_common.infra.db.base import Base, utcnow

NONE_ID = uuid.UUID(int=0)  # "no agent", "no team" in a dimension (a real id never is all zeros)


class ReportDimension(Base):
    """One combination of agent, team, inbox, channel and label (``''``: the unlabelled total)."""

    __tablename__ = "report_dimensions"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "agent_id", "team_id", "inbox_id", "channel", "label", name="uq_report_dimensions_key"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID] = mapped_column()
    team_id: Mapped[uuid.UUID] = mapped_column()
    inbox_id: Mapped[uuid.UUID] = mapped_column()
    channel: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))


COUNTERS = (
    "conversations_opened",
    "conversations_resolved",
    "messages_in",
    "messages_out",
    "sla_conversations",
    "sla_met",
    "csat_requested",
    "csat_responses",
    "csat_sum",
)


class Counters:
    """The counters (COUNTERS) a rollup row and a group row both carry, declared once."""

    conversations_opened: Mapped[int] = mapped_column(BigInteger, default=0)
    conversations_resolved: Mapped[int] = mapped_column(BigInteger, default=0)
    messages_in: Mapped[int] = mapped_column(BigInteger, default=0)
    messages_out: Mapped[int] = mapped_column(BigInteger, default=0)
    sla_conversations: Mapped[int] = mapped_column(BigInteger, default=0)
    sla_met: Mapped[int] = mapped_column(BigInteger, default=0)
    csat_requested: Mapped[int] = mapped_column(BigInteger, default=0)
    csat_responses: Mapped[int] = mapped_column(BigInteger, default=0)
    csat_sum: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportRollup(Counters, Base):
    __tablename__ = "report_rollups"
    __table_args__ = (Index("ix_report_rollups_account_hour", "account_id", "hour"),)

    dimension_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("report_dimensions.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column()


class ReportHistogram(Base):
    """Counts of durations per bin (switchboard_common.domain.reports.histogram) per hour and dimension."""

    __tablename__ = "report_histograms"
    __table_args__ = (Index("ix_report_histograms_account_hour", "account_id", "hour"),)

    dimension_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("report_dimensions.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    metric: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column()
    count: Mapped[int] = mapped_column(BigInteger, default=0)


GROUP_KINDS = ("agent", "team", "inbox", "channel", "label")
SPANS = ("hour", "day")


class ReportGroup(Counters, Base):
    """The same counts as the rollups and histograms, already summed per group of one ``group_by`` (an agent,
    a team, an inbox, a channel or a label) per UTC hour and per UTC day: what a summary reads, a row per
    group and day (and per hour at a range's ragged ends) instead of a row per dimension, hour and bin.

    ``key``: the agent's, team's or inbox's id (all zeros: none), the channel or the label. Each duration
    metric is a histogram in a ``bytea``: a big-endian int64 ``bin << 32 | count`` per bin that occurred,
    ascending by bin (switchboard_common.domain.reports.histogram); concatenated, histograms add up, so a
    summary merges a group's rows with ``string_agg`` and numpy reads the bytes as they are.
    """

    __tablename__ = "report_groups"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    group_by: Mapped[str] = mapped_column(String(8), primary_key=True)
    span: Mapped[str] = mapped_column(String(4), primary_key=True)
    start: Mapped[datetime] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_response: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    resolution: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    queue_wait: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class ReportConversation(Base):
    """What the rollup consumer remembers of a conversation between its events (no personal data)."""

    __tablename__ = "report_conversations"
    __table_args__ = (Index("ix_report_conversations_account", "account_id"),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportSeenEvent(Base):
    """Event ids already counted (kept for the topics' retention and more): redeliveries count once."""

    __tablename__ = "report_seen_events"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
