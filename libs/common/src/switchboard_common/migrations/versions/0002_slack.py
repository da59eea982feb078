"""Slack mirror table; message edits, deletions and platform ids

Revision ID: 0002_slack
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_slack"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_mirror_messages",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("slack_channel_id", sa.String(length=32), nullable=False),
        sa.Column("slack_ts", sa.String(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_mirror_messages")),
        sa.UniqueConstraint("slack_channel_id", "slack_ts", name="uq_slack_mirror_ts"),
    )
    op.create_index("ix_slack_mirror_conversation", "slack_mirror_messages", ["account_id", "conversation_id"])
    op.add_column("messages", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("messages", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    # Receipts and edits find our message by the platform's id.
    op.create_index("ix_messages_external", "messages", ["account_id", "external_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_external", table_name="messages")
    op.drop_column("messages", "deleted_at")
    op.drop_column("messages", "edited_at")
    op.drop_table("slack_mirror_messages")
