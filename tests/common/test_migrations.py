"""The migrations build exactly the schema the models describe (no drift), there is one head, and data migrations
convert what they say both ways."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
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


async def test_conversation_labels_keep_to_their_account_after_0020(stack_urls: StackUrls) -> None:
    """Migration 0020 removes labels of another account from conversations (never shown: every read compared the
    accounts), then the database refuses them; its downgrade gives the single-column foreign keys back."""
    made = await system_database(stack_urls.database_url)
    assert made is not None, "the local server lets the tests create databases"
    name, url = made
    engine = create_async_engine(url, poolclass=NullPool)
    mine, theirs, conversation = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    my_label, their_label, inbox, contact = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ids = {"a": mine, "b": theirs, "c": conversation, "ml": my_label, "tl": their_label, "i": inbox, "p": contact}
    label_rows = text("SELECT label_id FROM conversation_labels WHERE account_id = :a ORDER BY label_id")
    put_their_label = text(
        "INSERT INTO conversation_labels (conversation_id, label_id, account_id, created_at) "
        "VALUES (:c, :tl, :a, now())"
    )
    try:
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0019_due_row_notifications")
        async with engine.begin() as connection:
            for statement in (
                "INSERT INTO accounts (id, name, status, default_max_conversations, settings, created_at) "
                "VALUES (:a, 'A', 'active', 5, '{}', now()), (:b, 'B', 'active', 5, '{}', now())",
                "INSERT INTO inboxes (id, account_id, name, channel, settings, routing, created_at) "
                "VALUES (:i, :a, 'Site', 'web', '{}', '{}', now())",
                "INSERT INTO contacts (id, account_id, created_at) VALUES (:p, :a, now())",
                "INSERT INTO conversations (id, account_id, inbox_id, contact_id, channel, status, priority, "
                "created_at, updated_at, routing_explanation, assignment_version) "
                "VALUES (:c, :a, :i, :p, 'web', 'open', 0, now(), now(), '{}', 0)",
                "INSERT INTO labels (id, account_id, name, color, created_at) "
                "VALUES (:ml, :a, 'vip', '#000000', now()), (:tl, :b, 'vip', '#000000', now())",
                "INSERT INTO conversation_labels (conversation_id, label_id, account_id, created_at) "
                "VALUES (:c, :ml, :a, now()), (:c, :tl, :a, now())",
            ):
                await connection.execute(text(statement), ids)
        await asyncio.to_thread(command.upgrade, alembic_config(url), "0020_label_accounts")
        async with engine.connect() as connection:
            assert (await connection.scalars(label_rows, ids)).all() == [my_label]
            with pytest.raises(IntegrityError):
                await connection.execute(put_their_label, ids)
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0019_due_row_notifications")
        async with engine.begin() as connection:
            await connection.execute(put_their_label, ids)  # the older schema let it in
    finally:
        await engine.dispose()
        await drop_database(stack_urls.database_url, name)
