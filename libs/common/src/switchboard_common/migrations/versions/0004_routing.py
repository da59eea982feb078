"""routing: teams, members, skills, agent routing state, timers, history; conversation routing columns

Revision ID: 0004_routing
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_routing"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=op.f(f"fk_{table}_account_id_accounts"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("strategy", sa.String(length=20), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _account_fk("teams"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("account_id", "name", name="uq_teams_account_name"),
    )
    op.create_index(op.f("ix_teams_account_id"), "teams", ["account_id"])
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        _account_fk("team_members"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_team_members_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_team_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    op.create_index(op.f("ix_team_members_account_id"), "team_members", ["account_id"])
    op.create_table(
        "agent_skills",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("skill", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        _account_fk("agent_skills"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_skills_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "skill", name=op.f("pk_agent_skills")),
    )
    op.create_index(op.f("ix_agent_skills_account_id"), "agent_skills", ["account_id"])
    op.create_table(
        "agent_routing_state",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        _account_fk("agent_routing_state"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_routing_state_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_routing_state")),
    )
    op.create_index(op.f("ix_agent_routing_state_account_id"), "agent_routing_state", ["account_id"])
    op.add_column("conversations", sa.Column("team_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_conversations_team_id_teams"), "conversations", "teams", ["team_id"], ["id"], ondelete="SET NULL"
    )
    op.add_column(
        "conversations",
        sa.Column(
            "routing_requirements",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column("conversations", sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "routing_timers",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _account_fk("routing_timers"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_routing_timers_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_timers")),
        sa.UniqueConstraint("conversation_id", "kind", name="uq_routing_timers_conversation_kind"),
    )
    op.create_index("ix_routing_timers_due_at", "routing_timers", ["due_at"])
    op.create_table(
        "routing_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _account_fk("routing_history"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_routing_history_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_history")),
    )
    op.create_index(op.f("ix_routing_history_account_id"), "routing_history", ["account_id"])
    op.create_index("ix_routing_history_conversation", "routing_history", ["conversation_id", "id"])


def downgrade() -> None:
    op.drop_table("routing_history")
    op.drop_table("routing_timers")
    op.drop_column("conversations", "snoozed_until")
    op.drop_column("conversations", "routing_requirements")
    op.drop_constraint(op.f("fk_conversations_team_id_teams"), "conversations", type_="foreignkey")
    op.drop_column("conversations", "team_id")
    op.drop_table("agent_routing_state")
    op.drop_table("agent_skills")
    op.drop_table("team_members")
    op.drop_table("teams")
