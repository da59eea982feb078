"""reports: rollups summed per group (agent, team, inbox, channel, label) per UTC hour and day with packed
duration histograms, what a summary reads; ``report_merge_histograms`` adds two packed histograms; filled from
the existing rollups and histograms

Revision ID: 0017_report_groups
Revises: 0016_reports
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_report_groups"
down_revision: str | Sequence[str] | None = "0016_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = (
    "conversations_opened",
    "conversations_resolved",
    "messages_in",
    "messages_out",
    "sla_conversations",
    "sla_met",
    "csat_requested",
    "csat_responses",
    "csat_sum",
)
METRICS = {"first_response": 1, "resolution": 2, "queue_wait": 3}
# group_by -> the dimension column that is its key (labelled dimension rows only for labels, the unlabelled
# total for the others).
KEYS = {
    "agent": "d.agent_id::text",
    "team": "d.team_id::text",
    "inbox": "d.inbox_id::text",
    "channel": "d.channel",
    "label": "d.label",
}
STARTS = {"hour": "x.hour", "day": "date_trunc('day', x.hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"}

# Two histograms packed as ``bin << 32 | count`` (ascending by bin) added bin by bin.
MERGE_FUNCTION = """
CREATE FUNCTION report_merge_histograms(a bigint[], b bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN cardinality(b) = 0 THEN a
        WHEN cardinality(a) = 0 THEN b
        ELSE (
            SELECT array_agg((merged.bin << 32) | merged.n ORDER BY merged.bin)
            FROM (
                SELECT v >> 32 AS bin, sum(v & 4294967295)::bigint AS n FROM unnest(a || b) AS v GROUP BY 1
            ) AS merged
        )
    END
$$
"""


def _backfill(group_by: str, span: str) -> str:
    """Sums the existing rollups and histograms into ``report_groups`` rows of one ``group_by`` and span."""
    key, start = KEYS[group_by], STARTS[span]
    label = "d.label <> ''" if group_by == "label" else "d.label = ''"
    same = "{a}.account_id = k.account_id AND {a}.start = k.start AND {a}.key = k.key"
    packed_joins = "\n".join(
        f"LEFT JOIN packed AS p{n} ON {same.format(a=f'p{n}')} AND p{n}.metric = {n}" for n in METRICS.values()
    )
    # Built from this module's constants only (no input reaches it).
    return f"""
WITH counts AS (
    SELECT x.account_id, {start} AS start, {key} AS key, {", ".join(f"sum(x.{c}) AS {c}" for c in COUNTERS)}
    FROM report_rollups AS x JOIN report_dimensions AS d ON d.id = x.dimension_id
    WHERE {label}
    GROUP BY 1, 2, 3
),
bins AS (
    SELECT x.account_id, {start} AS start, {key} AS key, x.metric, x.bin, sum(x.count)::bigint AS n
    FROM report_histograms AS x JOIN report_dimensions AS d ON d.id = x.dimension_id
    WHERE {label}
    GROUP BY 1, 2, 3, 4, 5
),
packed AS (
    SELECT account_id, start, key, metric, array_agg((bin::bigint << 32) | n ORDER BY bin) AS histogram
    FROM bins GROUP BY 1, 2, 3, 4
),
keys AS (
    SELECT account_id, start, key FROM counts UNION SELECT account_id, start, key FROM packed
)
INSERT INTO report_groups (account_id, group_by, span, start, key, {", ".join(COUNTERS)}, {", ".join(METRICS)})
SELECT k.account_id, '{group_by}', '{span}', k.start, k.key,
       {", ".join(f"coalesce(c.{c}, 0)" for c in COUNTERS)},
       {", ".join(f"coalesce(p{n}.histogram, '{{}}')" for n in METRICS.values())}
FROM keys AS k
LEFT JOIN counts AS c ON {same.format(a="c")}
{packed_joins}
"""  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "report_groups",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("group_by", sa.String(length=8), nullable=False),
        sa.Column("span", sa.String(length=4), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTERS),
        *(sa.Column(name, sa.ARRAY(sa.BigInteger()), nullable=False) for name in METRICS),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_report_groups_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "group_by", "span", "start", "key", name=op.f("pk_report_groups")),
    )
    op.execute(MERGE_FUNCTION)
    for group_by in KEYS:
        for span in STARTS:
            op.execute(_backfill(group_by, span))


def downgrade() -> None:
    op.execute("DROP FUNCTION report_merge_histograms(bigint[], bigint[])")
    op.drop_table("report_groups")
