"""channel claims: a Messenger page, a Slack channel and a Slack workspace are connected at most once in the
installation; existing inboxes claim theirs, the oldest first (a later inbox naming the same page or another
account's workspace keeps its settings but no longer receives that channel's webhooks)

Revision ID: 0010_channel_claims
Revises: 0009_refresh_reuse
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_channel_claims"
down_revision: str | Sequence[str] | None = "0009_refresh_reuse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_claims",
        sa.Column("claim", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("inbox_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_channel_claims_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_channel_claims_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("claim", name=op.f("pk_channel_claims")),
    )
    op.create_index(op.f("ix_channel_claims_account_id"), "channel_claims", ["account_id"])
    op.create_index(op.f("ix_channel_claims_inbox_id"), "channel_claims", ["inbox_id"])
    # Oldest first: the inbox that was connected first keeps its page, workspace and channel.
    op.execute(
        """
        INSERT INTO channel_claims (claim, account_id, inbox_id, created_at)
        SELECT 'messenger:page:' || (settings->>'page_id'), account_id, id, now() FROM inboxes
        WHERE channel = 'messenger' AND coalesce(settings->>'page_id', '') <> ''
        ORDER BY created_at, id
        ON CONFLICT DO NOTHING
        """
    )
    op.execute(
        """
        INSERT INTO channel_claims (claim, account_id, inbox_id, created_at)
        SELECT 'slack:team:' || (settings->>'team_id'), account_id, NULL, now() FROM inboxes
        WHERE channel = 'slack' AND coalesce(settings->>'team_id', '') <> ''
        ORDER BY created_at, id
        ON CONFLICT DO NOTHING
        """
    )
    op.execute(
        """
        INSERT INTO channel_claims (claim, account_id, inbox_id, created_at)
        SELECT 'slack:channel:' || (i.settings->>'team_id') || ':' || (i.settings->>'channel_id'), i.account_id, i.id,
               now()
        FROM inboxes i
        JOIN channel_claims team ON team.claim = 'slack:team:' || (i.settings->>'team_id')
            AND team.account_id = i.account_id
        WHERE i.channel = 'slack' AND coalesce(i.settings->>'channel_id', '') <> ''
        ORDER BY i.created_at, i.id
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_channel_claims_inbox_id"), table_name="channel_claims")
    op.drop_index(op.f("ix_channel_claims_account_id"), table_name="channel_claims")
    op.drop_table("channel_claims")
