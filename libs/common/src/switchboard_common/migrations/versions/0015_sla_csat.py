"""service levels and satisfaction: SLA policies, what they apply to (inbox, team, label), each
conversation's SLA clocks, and its satisfaction survey

Revision ID: 0015_sla
Revises: 0014_routing_writers
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015_sla"
down_revision: str | Sequence[str] | None = "0014_routing_writers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("next_response_seconds", sa.Integer(), nullable=True),
        sa.Column("resolution_seconds", sa.Integer(), nullable=True),
        sa.Column("business_hours_only", sa.Boolean(), nullable=False),
        sa.Column("pause_statuses", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("raise_priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sla_policies_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("account_id", "name", name="uq_sla_policies_account_name"),
    )
    op.create_index(op.f("ix_sla_policies_account_id"), "sla_policies", ["account_id"], unique=False)
    op.create_table(
        "sla_policy_targets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sla_policy_targets_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_policy_targets_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy_targets")),
        sa.UniqueConstraint("account_id", "kind", "ref", name="uq_sla_policy_targets_account_kind_ref"),
    )
    op.create_index(op.f("ix_sla_policy_targets_policy_id"), "sla_policy_targets", ["policy_id"], unique=False)
    op.create_table(
        "conversation_sla",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("breached", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_conversation_sla_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_sla_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_conversation_sla_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_sla")),
    )
    op.create_index(op.f("ix_conversation_sla_account_id"), "conversation_sla", ["account_id"], unique=False)
    op.create_index(
        "ix_conversation_sla_check_at",
        "conversation_sla",
        ["check_at"],
        unique=False,
        postgresql_where=sa.text("check_at IS NOT NULL"),
    )
    op.create_table(
        "csat_surveys",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_csat_surveys_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_csat_surveys_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_csat_surveys")),
    )
    op.create_index(op.f("ix_csat_surveys_account_id"), "csat_surveys", ["account_id"], unique=False)
    op.create_index(
        "ix_csat_surveys_due",
        "csat_surveys",
        ["send_at"],
        unique=False,
        postgresql_where=sa.text("status = 'scheduled'"),
    )


def downgrade() -> None:
    op.drop_index("ix_csat_surveys_due", table_name="csat_surveys", postgresql_where=sa.text("status = 'scheduled'"))
    op.drop_index(op.f("ix_csat_surveys_account_id"), table_name="csat_surveys")
    op.drop_table("csat_surveys")
    op.drop_index(
        "ix_conversation_sla_check_at", table_name="conversation_sla", postgresql_where=sa.text("check_at IS NOT NULL")
    )
    op.drop_index(op.f("ix_conversation_sla_account_id"), table_name="conversation_sla")
    op.drop_table("conversation_sla")
    op.drop_index(op.f("ix_sla_policy_targets_policy_id"), table_name="sla_policy_targets")
    op.drop_table("sla_policy_targets")
    op.drop_index(op.f("ix_sla_policies_account_id"), table_name="sla_policies")
    op.drop_table("sla_policies")
