"""conversation_labels: the label and the conversation belong to the row's account, held by the database
(foreign keys on ``(id, account_id)`` of labels and conversations), so no query compares two accounts' columns
to keep another account's label off a conversation; rows that broke the rule are removed first

Revision ID: 0020_label_accounts
Revises: 0019_due_row_notifications
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from switchboard_common.domain.accounts.tenancy import cross_tenant

revision: str = "0020_label_accounts"
down_revision: str | Sequence[str] | None = "0019_due_row_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A label of another account on a conversation was never shown (every read compared the accounts): drop it.
    # Across every account on purpose (marked, so the tests' tenancy guard accepts it).
    op.execute(
        cross_tenant(
            sa.text(
                "DELETE FROM conversation_labels cl USING labels l "
                "WHERE l.id = cl.label_id AND l.account_id <> cl.account_id"
            )
        )
    )
    op.execute(
        cross_tenant(
            sa.text(
                "DELETE FROM conversation_labels cl USING conversations c "
                "WHERE c.id = cl.conversation_id AND c.account_id <> cl.account_id"
            )
        )
    )
    op.create_unique_constraint("uq_labels_id_account", "labels", ["id", "account_id"])
    op.create_unique_constraint("uq_conversations_id_account", "conversations", ["id", "account_id"])
    op.drop_constraint("fk_conversation_labels_label_id_labels", "conversation_labels", type_="foreignkey")
    op.drop_constraint(
        "fk_conversation_labels_conversation_id_conversations", "conversation_labels", type_="foreignkey"
    )
    op.create_foreign_key(
        "fk_conversation_labels_label_account",
        "conversation_labels",
        "labels",
        ["label_id", "account_id"],
        ["id", "account_id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_conversation_labels_conversation_account",
        "conversation_labels",
        "conversations",
        ["conversation_id", "account_id"],
        ["id", "account_id"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    op.drop_constraint("fk_conversation_labels_conversation_account", "conversation_labels", type_="foreignkey")
    op.drop_constraint("fk_conversation_labels_label_account", "conversation_labels", type_="foreignkey")
    op.create_foreign_key(
        "fk_conversation_labels_conversation_id_conversations",
        "conversation_labels",
        "conversations",
        ["conversation_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_conversation_labels_label_id_labels",
        "conversation_labels",
        "labels",
        ["label_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_constraint("uq_conversations_id_account", "conversations", type_="unique")
    op.drop_constraint("uq_labels_id_account", "labels", type_="unique")
