"""refresh-token reuse detection: rotated refresh tokens are remembered with their session

Revision ID: 0009_refresh_reuse
Revises: 0008_console
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_refresh_reuse"
down_revision: str | Sequence[str] | None = "0008_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "spent_refresh_tokens",
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_spent_refresh_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_spent_refresh_tokens_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("refresh_hash", name=op.f("pk_spent_refresh_tokens")),
    )
    op.create_index(op.f("ix_spent_refresh_tokens_account_id"), "spent_refresh_tokens", ["account_id"])
    op.create_index(op.f("ix_spent_refresh_tokens_session_id"), "spent_refresh_tokens", ["session_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_spent_refresh_tokens_session_id"), table_name="spent_refresh_tokens")
    op.drop_index(op.f("ix_spent_refresh_tokens_account_id"), table_name="spent_refresh_tokens")
    op.drop_table("spent_refresh_tokens")
