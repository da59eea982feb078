"""Retention sweeps: each pass removes at most ``RETENTION_BATCH_SIZE`` rows per account and category in
its own short transaction, so ingest never waits behind a long delete. Counts go to the aggregate table
first (statistics survive). What expires leaves exactly what erasure would leave for it: the event keys of
removed conversations (which seal their texts) and contacts (profile and channel-identity keys included) are
destroyed, crypto-shredding their Kafka copies, and their Redis keys and entries in shared keys (agents' and the
contact's streams) go after the batch commits; the messages policy trims agents' streams to its cutoff."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.accounts.tenancy import cross_tenant_session, tenant_session
from switchboard_common.domain.encryption.shredding import (
    destroy_legacy_identity_keys,
    destroy_subject_keys,
    person_refs,
    with_profile_refs,
)
from switchboard_common.domain.privacy.models import RetentionPolicy
from switchboard_common.infra.bus import TOPIC_SPECS
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.runtime import Resources

from switchboard_privacy import metrics
from switchboard_privacy.settings import PrivacySettings
from switchboard_privacy.stores import redis_store
from switchboard_privacy.stores.postgres import linked_tables
from switchboard_privacy.stores.redis_store import RedisFindings
from switchboard_privacy.stores.subject import Subject, load_subject

log = structlog.get_logger(__name__)

CATEGORIES = ("messages", "attachments", "closed_conversations", "inactive_contacts", "logs")

# Rows a category would remove: (candidate ids query). ``:a`` account, ``:cutoff``, ``:n`` batch size.
CANDIDATES = {
    "messages": "SELECT id FROM messages WHERE account_id = :a AND created_at < :cutoff LIMIT :n",
    "closed_conversations": (
        "SELECT id FROM conversations WHERE account_id = :a AND status = 'resolved' AND updated_at < :cutoff LIMIT :n"
    ),
    "inactive_contacts": (
        "SELECT c.id FROM contacts c WHERE c.account_id = :a AND coalesce(c.last_seen_at, c.created_at) < :cutoff "
        "AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.contact_id = c.id AND "
        "(v.status <> 'resolved' OR v.updated_at >= :cutoff)) LIMIT :n"
    ),
}


@dataclass
class SweepResult:
    rows: dict[str, int]
    seconds: float


async def _stats(session: AsyncSession, account_id: uuid.UUID, kind: str, table: str, ids: list[uuid.UUID]) -> None:
    # ``table`` is one of ours ("messages", "conversations"), never input.
    sql = (
        "INSERT INTO erased_statistics (account_id, day, kind, count) "  # noqa: S608
        f"SELECT :a, date_trunc('day', created_at), :kind, count(*) FROM {table} WHERE id = ANY(:ids) GROUP BY 2 "
        "ON CONFLICT (account_id, day, kind) DO UPDATE SET count = erased_statistics.count + excluded.count"
    )
    await session.execute(
        text(sql),
        {"a": account_id, "kind": kind, "ids": ids},
    )


async def _remove_conversations(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    for table in (await linked_tables(session))["conversation_id"]:
        await session.execute(text(f'DELETE FROM "{table}" WHERE conversation_id = ANY(:ids)'), {"ids": ids})  # noqa: S608
    await session.execute(text("DELETE FROM messages WHERE conversation_id = ANY(:ids)"), {"ids": ids})
    await session.execute(text("DELETE FROM conversations WHERE id = ANY(:ids)"), {"ids": ids})
    # The conversation's key seals its texts, attachments and notes in every Kafka record.
    await destroy_subject_keys(session, with_profile_refs(f"conversation:{c}" for c in ids))


@dataclass
class Batch:
    """One batch: rows removed, and what the same rows leave in Redis (cleared once the rows' transaction
    committed: what erasure would clear for them)."""

    count: int
    redis: RedisFindings | None = None
    # Messages older than this are gone: agents' stream entries older than it go too.
    messages_before: datetime | None = None


async def sweep_batch(
    session: AsyncSession,
    pseudonyms: Pseudonyms,
    account_id: uuid.UUID,
    category: str,
    cutoff: datetime,
    batch: int,
    *,
    dry_run: bool,
) -> Batch:
    """One batch of one category; with ``dry_run`` only counts (up to ``batch``)."""
    query = CANDIDATES.get(category)
    if query is None:
        return Batch(0)
    ids = list(await session.scalars(text(query), {"a": account_id, "cutoff": cutoff, "n": batch}))
    if dry_run or not ids:
        return Batch(len(ids))
    if category == "messages":
        await _stats(session, account_id, "messages", "messages", ids)
        await session.execute(text("DELETE FROM messages WHERE id = ANY(:ids)"), {"ids": ids})
        return Batch(len(ids), messages_before=cutoff)
    if category == "closed_conversations":
        contacts = list(
            await session.scalars(
                text("SELECT DISTINCT contact_id FROM conversations WHERE id = ANY(:ids) AND contact_id IS NOT NULL"),
                {"ids": ids},
            )
        )
        found = await redis_store.find(session, pseudonyms, Subject(account_id, [], conversation_ids=ids))
        found.contacts_kept = contacts
        found.frames_of_conversations_only = True
        await _stats(session, account_id, "conversations", "conversations", ids)
        await _remove_conversations(session, ids)
        return Batch(len(ids), found)
    # inactive_contacts: the contacts as erasure sees them (identities, every conversation), then the same keys.
    subject = await load_subject(session, account_id, ids)
    found = await redis_store.find(session, pseudonyms, subject)
    if subject.conversation_ids:
        await _stats(session, account_id, "conversations", "conversations", subject.conversation_ids)
        await _remove_conversations(session, subject.conversation_ids)
    refs = person_refs(pseudonyms, account_id, contact_ids=ids, identities=subject.identities)
    for table in (await linked_tables(session))["contact_id"]:
        await session.execute(text(f'DELETE FROM "{table}" WHERE contact_id = ANY(:ids)'), {"ids": ids})  # noqa: S608
    await session.execute(text("DELETE FROM contacts WHERE id = ANY(:ids)"), {"ids": ids})
    await destroy_subject_keys(session, refs)
    return Batch(len(ids), found)


async def _clear_redis(resources: Resources, account_id: uuid.UUID, batch: Batch) -> None:
    if batch.redis is not None:
        await redis_store.erase_found(resources.redis, resources.keys, batch.redis)
    if batch.messages_before is not None:
        # Stream ids are milliseconds since the epoch: every entry older than the cutoff goes.
        min_id = int(batch.messages_before.timestamp() * 1000)
        async with tenant_session(resources.sessionmaker, account_id) as session:
            agents = list(await session.scalars(select(User.id)))
        for agent_id in agents:
            await resources.redis.xtrim(resources.keys.agent_stream(agent_id), minid=min_id)


async def sweep(
    resources: Resources,
    settings: PrivacySettings,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    account_id: uuid.UUID | None = None,
    max_batches: int | None = None,
) -> SweepResult:
    """Applies every policy (or one account's) in batches until nothing is due (or ``max_batches``)."""
    started = time.perf_counter()
    now = now or utcnow()
    rows: dict[str, int] = {}
    if not dry_run and account_id is None:
        # Keys under the unsalted refs written before keyed pseudonyms: once no topic can hold a record
        # sealed with them, they only keep a reversible hash of someone's channel id. They go.
        oldest_record = now - timedelta(milliseconds=max(spec.retention_ms for spec in TOPIC_SPECS))
        async with cross_tenant_session(resources.sessionmaker) as session, session.begin():
            legacy = await destroy_legacy_identity_keys(session, oldest_record)
        if legacy:
            rows["legacy_identity_keys"] = legacy
    async with cross_tenant_session(resources.sessionmaker) as session:
        query = select(RetentionPolicy)
        if account_id is not None:
            query = query.where(RetentionPolicy.account_id == account_id)
        policies = list(await session.scalars(query))
    for policy in policies:
        cutoff = now - timedelta(days=policy.days)
        if policy.category == "attachments":
            removed = await resources.attachments.delete_older_than(policy.account_id, cutoff, dry_run=dry_run)
            rows["attachments"] = rows.get("attachments", 0) + removed
            if not dry_run and removed:
                metrics.RETENTION_ROWS.labels("attachments").inc(removed)
            continue
        batches = 0
        while max_batches is None or batches < max_batches:
            async with cross_tenant_session(resources.sessionmaker) as session, session.begin():
                done = await sweep_batch(
                    session,
                    resources.pseudonyms,
                    policy.account_id,
                    policy.category,
                    cutoff,
                    settings.retention_batch_size,
                    dry_run=dry_run,
                )
            count = done.count
            if count and not dry_run:
                await _clear_redis(resources, policy.account_id, done)
            rows[policy.category] = rows.get(policy.category, 0) + count
            batches += 1
            if not dry_run and count:
                metrics.RETENTION_ROWS.labels(policy.category).inc(count)
            if dry_run or count < settings.retention_batch_size:
                break
            await asyncio.sleep(0)  # let the ack path run between batches
    return SweepResult(rows=rows, seconds=time.perf_counter() - started)


class RetentionWorker(PeriodicWorker):
    name = "privacy-retention"

    def __init__(self, resources: Resources, settings: PrivacySettings) -> None:
        super().__init__(settings.retention_interval_seconds)
        self.resources = resources
        self.settings = settings

    async def tick(self) -> None:
        result = await sweep(self.resources, self.settings, max_batches=20)
        if any(result.rows.values()):
            log.info("retention_swept", rows=result.rows)
