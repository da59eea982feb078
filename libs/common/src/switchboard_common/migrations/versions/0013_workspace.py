"""workspace: private notes with mentions, labels on conversations, canned responses, contact notes and custom
attributes, and the full-text search index of messages (per language) and contacts

Revision ID: 0013_workspace
Revises: 0012_erasure_fence
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_workspace"
down_revision: str | Sequence[str] | None = "0012_erasure_fence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the expressions at this revision (the models' may change in a later migration).
MESSAGE_SEARCH = (
    "to_tsvector(CASE language WHEN 'el' THEN 'greek'::regconfig WHEN 'hu' THEN 'hungarian'::regconfig "
    "WHEN 'en' THEN 'english'::regconfig WHEN 'sq' THEN 'simple'::regconfig ELSE 'simple'::regconfig END, "
    "coalesce(text, ''))"
)
CONTACT_SEARCH = (
    "to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) || "
    "jsonb_to_tsvector('simple', custom_attributes, '[\"string\", \"numeric\"]')"
)


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column("mentions", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
    )
    op.add_column("messages", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column(
        "messages",
        sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(MESSAGE_SEARCH, persisted=True), nullable=True),
    )
    op.create_index("ix_messages_search", "messages", ["search_vector"], postgresql_using="gin")
    op.add_column(
        "contacts",
        sa.Column(
            "custom_attributes", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
    )
    op.add_column(
        "contacts",
        sa.Column("search_vector", postgresql.TSVECTOR(), sa.Computed(CONTACT_SEARCH, persisted=True), nullable=True),
    )
    op.create_index("ix_contacts_search", "contacts", ["search_vector"], postgresql_using="gin")

    op.create_table(
        "labels",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_labels_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("account_id", "name", name="uq_labels_account_name"),
    )
    op.create_index(op.f("ix_labels_account_id"), "labels", ["account_id"])
    op.create_table(
        "conversation_labels",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("label_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_conversation_labels_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_labels_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_conversation_labels_label_id_labels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("conversation_id", "label_id", name=op.f("pk_conversation_labels")),
    )
    op.create_index(op.f("ix_conversation_labels_account_id"), "conversation_labels", ["account_id"])
    op.create_index("ix_conversation_labels_label", "conversation_labels", ["label_id", "conversation_id"])
    op.create_table(
        "canned_responses",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("short_code", sa.String(length=50), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_canned_responses_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_canned_responses_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("account_id", "short_code", name="uq_canned_responses_short_code"),
    )
    op.create_index(op.f("ix_canned_responses_account_id"), "canned_responses", ["account_id"])
    op.create_table(
        "contact_notes",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_contact_notes_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_notes_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_contact_notes_author_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_notes")),
    )
    op.create_index(op.f("ix_contact_notes_account_id"), "contact_notes", ["account_id"])
    op.create_index("ix_contact_notes_contact", "contact_notes", ["contact_id", "created_at"])


def downgrade() -> None:
    op.drop_table("contact_notes")
    op.drop_table("canned_responses")
    op.drop_table("conversation_labels")
    op.drop_table("labels")
    op.drop_index("ix_contacts_search", table_name="contacts")
    op.drop_column("contacts", "search_vector")
    op.drop_column("contacts", "custom_attributes")
    op.drop_index("ix_messages_search", table_name="messages")
    op.drop_column("messages", "search_vector")
    op.drop_column("messages", "language")
    op.drop_column("messages", "mentions")
