"""due rows notify: an insert into ``webhook_deliveries`` or ``csat_surveys`` sends a NOTIFY on the table's
channel (at commit, once per statement), so the workers that send them sleep until a row is due or added
instead of polling an idle table (switchboard_common.infra.wakeup)

Revision ID: 0019_due_row_notifications
Revises: 0018_report_histogram_bytes
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_due_row_notifications"
down_revision: str | Sequence[str] | None = "0018_report_histogram_bytes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose workers listen; each table's channel is its name.
TABLES = ("webhook_deliveries", "csat_surveys")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION switchboard_notify_due_rows() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_TABLE_NAME, '');
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify_due AFTER INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION switchboard_notify_due_rows()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_due ON {table}")
    op.execute("DROP FUNCTION IF EXISTS switchboard_notify_due_rows()")
