"""inbox bots (Dialogflow): per-inbox bot configuration with encrypted credentials

Revision ID: 0003_messenger_bot
Revises: 0001

The Messenger page lookup index (``ix_inboxes_channel_page``) already exists (0002_channels).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_messenger_bot"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox_bots",
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("secrets_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("broken_reason", sa.String(length=60), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_inbox_bots_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_inbox_bots_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("inbox_id", name=op.f("pk_inbox_bots")),
    )
    op.create_index(op.f("ix_inbox_bots_account_id"), "inbox_bots", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_bots_account_id"), table_name="inbox_bots")
    op.drop_table("inbox_bots")
