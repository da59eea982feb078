"""console: private messages (transfer notes), when agents last read a conversation, the conversation a
contact's new one follows

Revision ID: 0008_console
Revises: 0007_merge
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_console"
down_revision: str | Sequence[str] | None = "0007_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("private", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.add_column("conversations", sa.Column("agent_last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("conversations", sa.Column("previous_conversation_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_conversations_previous_conversation_id_conversations"),
        "conversations",
        "conversations",
        ["previous_conversation_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_conversations_previous_conversation_id_conversations"), "conversations", type_="foreignkey"
    )
    op.drop_column("conversations", "previous_conversation_id")
    op.drop_column("conversations", "agent_last_seen_at")
    op.drop_column("messages", "private")
