"""privacy: subject keys (crypto-shredding), requests, append-only audit, consent, retention, account lifecycle

Revision ID: 0005_privacy
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_privacy"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.add_column(
        "accounts", sa.Column("plan", sa.String(length=20), server_default=sa.text("'trial'"), nullable=False)
    )
    op.add_column("accounts", sa.Column("trial_ends_at", TZ, nullable=True))
    op.add_column("accounts", sa.Column("billing_failing_since", TZ, nullable=True))
    op.add_column("accounts", sa.Column("suspended_at", TZ, nullable=True))
    op.add_column("accounts", sa.Column("suspension_reason", sa.String(length=40), nullable=True))
    op.add_column("accounts", sa.Column("terminated_at", TZ, nullable=True))

    op.create_table(
        "subject_keys",
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_subject_keys_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_subject_keys")),
    )
    op.create_index(op.f("ix_subject_keys_account_id"), "subject_keys", ["account_id"], unique=False)

    op.create_table(
        "privacy_requests",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("subject", JSON, nullable=False),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("contact_ids", JSON, nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("verified_at", TZ, nullable=True),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("progress", JSON, nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", TZ, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_privacy_requests_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index("ix_privacy_requests_account_created", "privacy_requests", ["account_id", "created_at"])
    op.create_index("ix_privacy_requests_runnable", "privacy_requests", ["status", "next_attempt_at"])

    op.create_table(
        "privacy_audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_audit_log")),
    )
    op.create_index("ix_privacy_audit_log_account", "privacy_audit_log", ["account_id", "id"])
    # Append-only: the database itself refuses to rewrite or delete the trail.
    op.execute(
        """
        CREATE FUNCTION privacy_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'privacy_audit_log is append-only';
        END;
        $$;
        """
    )
    op.execute(
        "CREATE TRIGGER privacy_audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON privacy_audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION privacy_audit_log_append_only()"
    )

    op.create_table(
        "consent_records",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("inbox_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=True),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_consent_records_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_consent_records_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_consent_records_inbox_id_inboxes"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index(op.f("ix_consent_records_account_id"), "consent_records", ["account_id"], unique=False)
    op.create_index(op.f("ix_consent_records_contact_id"), "consent_records", ["contact_id"], unique=False)

    op.create_table(
        "retention_policies",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_retention_policies_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "category", name=op.f("pk_retention_policies")),
    )

    op.create_table(
        "erased_statistics",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("day", TZ, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "day", "kind", name=op.f("pk_erased_statistics")),
    )


def downgrade() -> None:
    op.drop_table("erased_statistics")
    op.drop_table("retention_policies")
    op.drop_table("consent_records")
    op.execute("DROP TRIGGER IF EXISTS privacy_audit_log_append_only ON privacy_audit_log")
    op.execute("DROP FUNCTION IF EXISTS privacy_audit_log_append_only()")
    op.drop_table("privacy_audit_log")
    op.drop_table("privacy_requests")
    op.drop_table("subject_keys")
    for column in (
        "terminated_at",
        "suspension_reason",
        "suspended_at",
        "billing_failing_since",
        "trial_ends_at",
        "plan",
    ):
        op.drop_column("accounts", column)
