"""reports: hourly rollups and mergeable duration histograms per dimension (agent, team, inbox, channel,
label), the rollup consumer's per-conversation facts, and the event ids it has counted

Revision ID: 0016_reports
Revises: 0015_sla
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_reports"
down_revision: str | Sequence[str] | None = "0015_sla"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_seen_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_report_seen_events")),
    )
    op.create_index(op.f("ix_report_seen_events_seen_at"), "report_seen_events", ["seen_at"], unique=False)
    op.create_table(
        "report_conversations",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("facts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_report_conversations_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_report_conversations")),
    )
    op.create_index("ix_report_conversations_account", "report_conversations", ["account_id"], unique=False)
    op.create_table(
        "report_dimensions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_report_dimensions_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_dimensions")),
        sa.UniqueConstraint(
            "account_id", "agent_id", "team_id", "inbox_id", "channel", "label", name="uq_report_dimensions_key"
        ),
    )
    op.create_table(
        "report_histograms",
        sa.Column("dimension_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.SmallInteger(), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dimension_id"],
            ["report_dimensions.id"],
            name=op.f("fk_report_histograms_dimension_id_report_dimensions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dimension_id", "hour", "metric", "bin", name=op.f("pk_report_histograms")),
    )
    op.create_index("ix_report_histograms_account_hour", "report_histograms", ["account_id", "hour"], unique=False)
    op.create_table(
        "report_rollups",
        sa.Column("dimension_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("conversations_opened", sa.BigInteger(), nullable=False),
        sa.Column("conversations_resolved", sa.BigInteger(), nullable=False),
        sa.Column("messages_in", sa.BigInteger(), nullable=False),
        sa.Column("messages_out", sa.BigInteger(), nullable=False),
        sa.Column("sla_conversations", sa.BigInteger(), nullable=False),
        sa.Column("sla_met", sa.BigInteger(), nullable=False),
        sa.Column("csat_requested", sa.BigInteger(), nullable=False),
        sa.Column("csat_responses", sa.BigInteger(), nullable=False),
        sa.Column("csat_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dimension_id"],
            ["report_dimensions.id"],
            name=op.f("fk_report_rollups_dimension_id_report_dimensions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dimension_id", "hour", name=op.f("pk_report_rollups")),
    )
    op.create_index("ix_report_rollups_account_hour", "report_rollups", ["account_id", "hour"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_report_rollups_account_hour", table_name="report_rollups")
    op.drop_table("report_rollups")
    op.drop_index("ix_report_histograms_account_hour", table_name="report_histograms")
    op.drop_table("report_histograms")
    op.drop_table("report_dimensions")
    op.drop_index("ix_report_conversations_account", table_name="report_conversations")
    op.drop_table("report_conversations")
    op.drop_index(op.f("ix_report_seen_events_seen_at"), table_name="report_seen_events")
    op.drop_table("report_seen_events")
