"""The lifecycle sweep. ``now`` is a parameter so tests (and operators replaying a schedule) drive the clock.

* trial not upgraded after ``LIFECYCLE_TRIAL_DAYS`` -> suspended (``trial_expired``)
* billing failing longer than ``LIFECYCLE_BILLING_GRACE_DAYS`` -> suspended (``billing_failed``)
* suspended ``LIFECYCLE_SUSPENDED_DAYS`` -> terminated: configuration removed (inboxes, webhooks), data kept
* terminated ``LIFECYCLE_TERMINATED_DAYS`` -> purged: every row, Redis key, attachment and event key.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import false, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts import revocation
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.encryption.shredding import destroy_account_keys, subject_keys_of
from switchboard_common.infra.db import affected_rows
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.directory import EntryKind
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.settings import CommonSettings

from switchboard_privacy import metrics
from switchboard_privacy.audit import log as audit
from switchboard_privacy.ledger import ErasureLedger
from switchboard_privacy.settings import PrivacySettings
from switchboard_privacy.stores import redis_store

log = structlog.get_logger(__name__)


async def sweep(
    resources: Resources,
    settings: PrivacySettings,
    now: datetime | None = None,
    *,
    only: Sequence[uuid.UUID] | None = None,
) -> dict[str, int]:
    """One pass over every account (or ``only`` these). ``LIFECYCLE_TRIAL_DAYS=0`` turns trial expiry off."""
    now = now or utcnow()
    done = {"suspended": 0, "terminated": 0, "purged": 0}
    released: list[tuple[EntryKind, str]] = []
    scope = Account.id.in_(list(only)) if only is not None else true()
    async with cross_tenant_session(resources.sessionmaker) as session, session.begin():
        trial_cutoff = now - timedelta(days=settings.lifecycle_trial_days)
        rows = await session.execute(
            update(Account)
            .where(
                scope,
                true() if settings.lifecycle_trial_days > 0 else false(),
                Account.status == "active",
                Account.plan == "trial",
                ((Account.trial_ends_at.is_not(None)) & (Account.trial_ends_at <= now))
                | ((Account.trial_ends_at.is_(None)) & (Account.created_at <= trial_cutoff)),
            )
            .values(status="suspended", suspended_at=now, suspension_reason="trial_expired")
            .returning(Account.id)
        )
        suspended = [(r, "trial_expired") for r in rows.scalars()]
        rows = await session.execute(
            update(Account)
            .where(
                scope,
                Account.status == "active",
                Account.billing_failing_since.is_not(None),
                Account.billing_failing_since <= now - timedelta(days=settings.lifecycle_billing_grace_days),
            )
            .values(status="suspended", suspended_at=now, suspension_reason="billing_failed")
            .returning(Account.id)
        )
        suspended += [(r, "billing_failed") for r in rows.scalars()]
        for account_id, reason in suspended:
            await audit.record(
                session,
                account_id=account_id,
                actor="system:lifecycle",
                action="account.suspended",
                details={"reason": reason},
            )
        done["suspended"] = len(suspended)

        to_terminate = list(
            await session.scalars(
                select(Account.id).where(
                    scope,
                    Account.status == "suspended",
                    Account.suspended_at <= now - timedelta(days=settings.lifecycle_suspended_days),
                )
            )
        )
        for account_id in to_terminate:
            released += await directory_entries(session, resources, account_id, channels_only=True)
            counts = await _remove_configuration(session, account_id)
            await session.execute(
                update(Account).where(Account.id == account_id).values(status="terminated", terminated_at=now)
            )
            await audit.record(
                session,
                account_id=account_id,
                actor="system:lifecycle",
                action="account.terminated",
                details={"counts": counts},
            )
        done["terminated"] = len(to_terminate)
        to_purge = list(
            await session.scalars(
                select(Account.id).where(
                    scope,
                    Account.status == "terminated",
                    Account.terminated_at <= now - timedelta(days=settings.lifecycle_terminated_days),
                )
            )
        )
    # Committed: the pages and workspaces are free in the directory too (another region may connect them).
    for kind, key in released:
        await resources.directory.release_quietly(kind, key)
    for account_id, _reason in suspended:
        # Open agent sockets of a suspended account close now, not at their next heartbeat.
        await revocation.announce(resources.redis, resources.keys, revocation.Revocation(account_id))
    for account_id in to_purge:
        await purge_account(resources, settings, account_id)
        done["purged"] += 1
    for state, count in done.items():
        if count:
            metrics.LIFECYCLE_TRANSITIONS.labels(state).inc(count)
    return done


async def _remove_configuration(session: AsyncSession, account_id: uuid.UUID) -> dict[str, int]:
    """Termination: the account's configuration goes (inboxes with their channel secrets, webhooks); the
    conversations stay until the purge, so the customer can still get an export meanwhile."""
    counts: dict[str, int] = {}
    for table, sql in (
        ("webhook_subscriptions", "DELETE FROM webhook_subscriptions WHERE account_id = :a"),
        # Its pages and workspaces are free again: their owners may connect them to another account.
        ("channel_claims", "DELETE FROM channel_claims WHERE account_id = :a"),
        (
            "inboxes",
            "UPDATE inboxes SET secrets_encrypted = NULL, widget_token = NULL, settings = '{}' WHERE account_id = :a",
        ),
    ):
        result = await session.execute(text(sql), {"a": account_id})
        counts[table] = affected_rows(result)
    return counts


async def purge_account(resources: Resources, settings: PrivacySettings, account_id: uuid.UUID) -> dict[str, int]:
    """Every trace of the account: event keys (Kafka is shredded), Redis keys, attachments, then the rows
    (every tenant table cascades from ``accounts``). Only the audit trail (ids and counts) remains."""
    counts: dict[str, int] = {}
    # First, outside the backups: restoring one taken before this purge must not bring the account back.
    ledger = ErasureLedger.from_settings(settings)
    try:
        ref = f"account:{account_id}"
        await ledger.record("account_purge", subjects=[ref], once_per=ref)
    finally:
        await ledger.close()
    async with cross_tenant_session(resources.sessionmaker) as session, session.begin():
        counts["subject_keys"] = await destroy_account_keys(session, account_id)
    subject_keys_of(resources.bus).forget_all()
    await asyncio.sleep(settings.subject_key_cache_seconds)
    counts["attachments"] = await resources.attachments.delete_account(account_id)
    async with cross_tenant_session(resources.sessionmaker) as session:
        key_values = await redis_store.account_values(session, resources.pseudonyms, account_id)
        counts["redis_keys"] = await redis_store.purge_account(
            session, resources.redis, resources.keys, key_values, account_id
        )
    async with cross_tenant_session(resources.sessionmaker) as session, session.begin():
        entries = await directory_entries(session, resources, account_id)
        counts.update(await delete_account_rows(session, account_id))
        purged_at = utcnow()
        details: dict[str, object] = {
            "counts": counts,
            # Backups taken before now may still hold the account; the last of them expires by then (and a
            # restore before that replays the ledger entry written above).
            "backups_expire_by": backups_expire_by(settings, purged_at).isoformat(),
        }
        await audit.record(
            session,
            account_id=account_id,
            actor="system:lifecycle",
            action="account.purged",
            details=details,
        )
    # Again, now that the rows are gone: a worker that read them before (the router's queue ticker pushing
    # queue positions) may have written keys after the first pass; none can from here on.
    async with cross_tenant_session(resources.sessionmaker) as session:
        await redis_store.purge_account(session, resources.redis, resources.keys, key_values, account_id)
    # The directory forgets the account, its inboxes, logins, pages and workspaces (several regions only).
    for kind, key in entries:
        await resources.directory.release_quietly(kind, key)
    log.info("account_purged", account_id=str(account_id))
    return counts


async def directory_entries(
    session: AsyncSession, resources: Resources, account_id: uuid.UUID, *, channels_only: bool = False
) -> list[tuple[EntryKind, str]]:
    """What the global directory holds for the account (switchboard_common.infra.directory), read before its
    rows go; nothing with a single region."""
    if not resources.directory.enabled:
        return []
    entries: list[tuple[EntryKind, str]] = []
    for (claim,) in (
        await session.execute(text("SELECT claim FROM channel_claims WHERE account_id = :a"), {"a": account_id})
    ).all():
        kind, _, rest = str(claim).partition(":")[2].partition(":")
        if kind in ("page", "team"):
            entries.append(("messenger_page" if kind == "page" else "slack_team", rest))
    if channels_only:
        return entries
    entries.append(("account", str(account_id)))
    for (inbox_id,) in (
        await session.execute(text("SELECT id FROM inboxes WHERE account_id = :a"), {"a": account_id})
    ).all():
        entries.append(("inbox", str(inbox_id)))
    for (email,) in (
        await session.execute(text("SELECT email FROM users WHERE account_id = :a"), {"a": account_id})
    ).all():
        if email:
            entries.append(("email", resources.directory.email_key(str(email))))
    return entries


async def delete_account_rows(session: AsyncSession, account_id: uuid.UUID) -> dict[str, int]:
    """Every row of the account: tables keyed by its conversations, every table with an ``account_id``, then
    the account (the audit trail stays). Also replayed from the erasure ledger after a restore."""
    counts: dict[str, int] = {}
    conversations = list(
        await session.scalars(text("SELECT id FROM conversations WHERE account_id = :a"), {"a": account_id})
    )
    if conversations:
        # Tables keyed by conversation without a foreign key (e.g. webhook deliveries, Slack mirrors).
        from switchboard_privacy.stores.postgres import linked_tables

        for table in (await linked_tables(session))["conversation_id"]:
            await session.execute(
                text(f'DELETE FROM "{table}" WHERE conversation_id = ANY(:ids)'),  # noqa: S608
                {"ids": conversations},
            )
    for table in await _tables_with_account_id(session):
        await session.execute(text(f'DELETE FROM "{table}" WHERE account_id = :a'), {"a": account_id})  # noqa: S608
    result = await session.execute(text("DELETE FROM accounts WHERE id = :a"), {"a": account_id})
    counts["accounts"] = affected_rows(result)
    return counts


def backups_expire_by(settings: CommonSettings, erased_at: datetime) -> datetime:
    """When the last backup that can still hold data erased at ``erased_at`` expires: every such backup was
    taken before then, and each is deleted ``BACKUP_RETENTION_DAYS`` after it was taken."""
    return erased_at + timedelta(days=settings.backup_retention_days)


async def _tables_with_account_id(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        text(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND column_name = 'account_id' AND table_name NOT IN ('privacy_audit_log', 'accounts')"
        )
    )
    return [r[0] for r in rows]


class LifecycleWorker(PeriodicWorker):
    name = "privacy-lifecycle"

    def __init__(self, resources: Resources, settings: PrivacySettings) -> None:
        super().__init__(settings.lifecycle_interval_seconds)
        self.resources = resources
        self.settings = settings

    async def tick(self) -> None:
        await sweep(self.resources, self.settings)
