"""spam statistics hold keyed pseudonyms only: the plain-word statistics learned so far (surnames and phone
numbers among them) are dropped; each account's filter relearns from agents' next verdicts

Revision ID: 0011_spam_pseudonyms
Revises: 0010_channel_claims
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_spam_pseudonyms"
down_revision: str | Sequence[str] | None = "0010_channel_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The pseudonym key lives in the services' environment, not here: the plain words cannot be re-keyed in SQL,
    # and keeping them is the leak being closed.
    op.execute("DELETE FROM spam_token_stats")


def downgrade() -> None:
    op.execute("DELETE FROM spam_token_stats")
