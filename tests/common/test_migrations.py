"""The migrations build exactly the schema the models describe (no drift), there is one head, and data migrations
convert what they say both ways."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from switchboard_common.domain.reports import histogram
from switchboard_common.domain.reports.models import COUNTERS
from switchboard_common.migrations import alembic_config
from switchboard_common.migrations.tables import metadata
from switchboard_devstack.servers import StackUrls

from tests.helpers.databases import drop_database, system_database


async def test_models_match_migrations(stack_urls: StackUrls) -> None:
    engine = create_async_engine(stack_urls.database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), metadata)
        )
    await engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/db")).get_heads()
    assert len(heads) == 1, f"several migration heads {heads}: add a merge revision"


STORED = text("SELECT first_response, resolution, queue_wait FROM report_groups WHERE account_id = :a")


async def test_report_histograms_turn_into_bytes_and_back(stack_urls: StackUrls) -> None:
    """Migration 0018 turns report_groups' ``bigint[]`` histograms into the bytes the consumer writes
    (``histogram.pack``), and its downgrade turns them back (with the SQL merge function the older code calls)."""
    made = await system_database(stack_urls.database_url)
    assert made is not None, "the local server lets the tests create databases"
    name, url = made
    engine = create_async_engine(url, poolclass=NullPool)  # a connection per step: the schema changes between them
    row = {"a": uuid.uuid4(), "day": datetime(2026, 3, 2, tzinfo=UTC)}
    packed = [(3 << 32) | 1, (5 << 32) | 2, (604_900 << 32) | 7]
    try:
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0017_report_groups")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO accounts (id, name, status, default_max_conversations, settings, created_at) "
                    "VALUES (:a, 'A', 'active', 5, '{}', now())"
                ),
                row,
            )
            counters = ", ".join(COUNTERS)
            await connection.execute(
                text(
                    f"INSERT INTO report_groups (account_id, group_by, span, start, key, {counters}, "  # noqa: S608
                    "first_response, resolution, queue_wait) "
                    f"VALUES (:a, 'agent', 'day', :day, 'k', {', '.join('0' for _ in COUNTERS)}, :h, '{{}}', "
                    "report_merge_histograms(:h, :h))"
                ),
                {**row, "h": packed},
            )
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0018_report_histogram_bytes")
        async with engine.connect() as connection:
            stored = (await connection.execute(STORED, row)).one()
        assert tuple(stored) == (
            histogram.pack({3: 1, 5: 2, 604_900: 7}),
            b"",
            histogram.pack({3: 2, 5: 4, 604_900: 14}),
        )
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0017_report_groups")
        async with engine.connect() as connection:
            back = (await connection.execute(STORED, row)).one()
        assert tuple(back) == (packed, [], [(3 << 32) | 2, (5 << 32) | 4, (604_900 << 32) | 14])
    finally:
        await engine.dispose()
        await drop_database(stack_urls.database_url, name)
