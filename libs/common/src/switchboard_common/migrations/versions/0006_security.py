"""security: TOTP, recovery codes, sessions with refresh tokens, API tokens, security audit, spam statistics

Revision ID: 0006_security
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_security"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "user_totp",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("confirmed_at", TZ, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("user_totp", "user_id", "users"),
        _fk("user_totp", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_totp")),
    )
    op.create_index(op.f("ix_user_totp_account_id"), "user_totp", ["account_id"])

    op.create_table(
        "recovery_codes",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("recovery_codes", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])

    op.create_table(
        "auth_sessions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("auth_sessions", "user_id", "users"),
        _fk("auth_sessions", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("refresh_hash", name=op.f("uq_auth_sessions_refresh_hash")),
    )
    op.create_index(op.f("ix_auth_sessions_user_id"), "auth_sessions", ["user_id"])
    op.create_index(op.f("ix_auth_sessions_account_id"), "auth_sessions", ["account_id"])

    op.create_table(
        "api_tokens",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("api_tokens", "account_id", "accounts"),
        _fk("api_tokens", "created_by", "users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_account_id"), "api_tokens", ["account_id"])

    op.create_table(
        "security_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        _fk("security_events", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    op.create_index("ix_security_events_account_created", "security_events", ["account_id", "created_at"])

    op.create_table(
        "spam_token_stats",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("spam", sa.BigInteger(), nullable=False),
        sa.Column("ham", sa.BigInteger(), nullable=False),
        _fk("spam_token_stats", "account_id", "accounts"),
        sa.PrimaryKeyConstraint("account_id", "token", name=op.f("pk_spam_token_stats")),
    )


def downgrade() -> None:
    for table in ("spam_token_stats", "security_events", "api_tokens", "auth_sessions", "recovery_codes", "user_totp"):
        op.drop_table(table)
