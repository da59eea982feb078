"""reports: report_groups' duration histograms as raw bytes (``bytea``: big-endian int64 ``bin << 32 | count``
per bin, ascending) instead of ``bigint[]``, so a summary concatenates a group's rows in PostgreSQL
(``string_agg``, a copy) and numpy reads them as they are; the consumer merges histograms itself, and
``report_merge_histograms`` goes

Revision ID: 0018_report_histogram_bytes
Revises: 0017_report_groups
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_report_histogram_bytes"
down_revision: str | Sequence[str] | None = "0017_report_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METRICS = ("first_response", "resolution", "queue_wait")


def to_bytes(column: str) -> str:
    """A ``bigint[]`` histogram as its bytes: each element's ``int8send`` (8 bytes, big-endian), in order."""
    # Built from this module's names only (no input reaches it).
    return (
        "(SELECT coalesce(string_agg(int8send(v), ''::bytea ORDER BY n), ''::bytea) "  # noqa: S608
        f"FROM unnest({column}) WITH ORDINALITY AS e(v, n))"
    )


def to_array(column: str) -> str:
    """The bytes back as a ``bigint[]`` (downgrade)."""
    return (
        "(SELECT coalesce(array_agg("  # noqa: S608
        f"('x' || encode(substring({column} FROM 8 * i + 1 FOR 8), 'hex'))::bit(64)::bigint ORDER BY i), '{{}}') "
        f"FROM generate_series(0, length({column}) / 8 - 1) AS i)"
    )


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


def _convert(kind: str, convert: str) -> None:
    # A column's type changes with USING, which takes no subquery: the conversion goes through a function made
    # for the migration (one table rewrite for the three columns).
    op.execute(
        f"CREATE FUNCTION report_histogram_convert(h {'bigint[]' if kind == 'bytea' else 'bytea'}) RETURNS {kind} "
        f"LANGUAGE sql IMMUTABLE AS $$ SELECT {convert} $$"
    )
    op.execute(
        "ALTER TABLE report_groups "
        + ", ".join(f"ALTER COLUMN {name} TYPE {kind} USING report_histogram_convert({name})" for name in METRICS)
    )
    op.execute(f"DROP FUNCTION report_histogram_convert({'bigint[]' if kind == 'bytea' else 'bytea'})")


def upgrade() -> None:
    _convert("bytea", to_bytes("h"))
    op.execute("DROP FUNCTION report_merge_histograms(bigint[], bigint[])")


def downgrade() -> None:
    _convert("bigint[]", to_array("h"))
    op.execute(MERGE_FUNCTION)
