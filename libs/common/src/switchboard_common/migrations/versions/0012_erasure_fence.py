"""erasure fence: a subject key row whose key is NULL marks a destroyed key that must not be created again (a message
published for the subject while its erasure runs is sealed with a throwaway key instead)

Revision ID: 0012_erasure_fence
Revises: 0011_spam_pseudonyms
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_erasure_fence"
down_revision: str | Sequence[str] | None = "0011_spam_pseudonyms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("subject_keys", "key_encrypted", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM subject_keys WHERE key_encrypted IS NULL")
    op.alter_column("subject_keys", "key_encrypted", existing_type=sa.LargeBinary(), nullable=False)
