"""merge the per-domain branches (channels, slack, messenger bot, routing, privacy, security)

Revision ID: 0007_merge
Revises: 0002_channels, 0002_slack, 0003_messenger_bot, 0004_routing, 0005_privacy, 0006_security
"""

from collections.abc import Sequence

revision: str = "0007_merge"
down_revision: str | Sequence[str] | None = (
    "0002_channels",
    "0002_slack",
    "0003_messenger_bot",
    "0004_routing",
    "0005_privacy",
    "0006_security",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the branches into one head."""


def downgrade() -> None:
    """Splitting the head again changes no schema."""
