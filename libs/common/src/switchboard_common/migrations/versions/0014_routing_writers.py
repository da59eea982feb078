"""routing writers: one row per account naming its routing writer's epoch (fencing) and the last routing
command it applied

Revision ID: 0014_routing_writers
Revises: 0013_workspace
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_routing_writers"
down_revision: str | Sequence[str] | None = "0013_workspace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_writers",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("taken_over_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_partition", sa.Integer(), nullable=True),
        sa.Column("applied_offset", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_routing_writers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_routing_writers")),
    )


def downgrade() -> None:
    op.drop_table("routing_writers")
