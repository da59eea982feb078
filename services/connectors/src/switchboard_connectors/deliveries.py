"""Sends queued signed POSTs (API inbox callbacks and account webhooks) and retries them.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so any number of replicas share the work and
a crashed replica's deliveries are picked up when their lease ends. A target receives one conversation's
deliveries in order: a row waits while an earlier one for the same target and conversation is pending.
Backoff is exponential with full jitter, bounded by ``WEBHOOK_MAX_ATTEMPTS``; then the delivery fails, the
agent learns it (callbacks) or the subscription counts it (and is disabled after repeated failures).

Idle, the worker does not poll: it sleeps until the next row is due (a retry, a lease running out) or an
insert's NOTIFY wakes it (switchboard_common.infra.wakeup), and looks at least every ``IDLE_MAX_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.accounts.tenancy import CROSS_TENANT_OPTION, cross_tenant, tenant_session
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.domain.subscriptions.models import WebhookDelivery, WebhookSubscription
from switchboard_common.domain.subscriptions.revisions import bump_revision
from switchboard_common.domain.subscriptions.secrets import subscription_secret_aad
from switchboard_common.infra import metrics, signing
from switchboard_common.infra.db import affected_rows, transaction
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.outbound_http import OutboundHttp, UnsafeUrl
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.wakeup import DatabaseWakeup

from switchboard_connectors.channels.api.webhook import current_secrets
from switchboard_connectors.outbound import DeliveryResult, publish_delivery_update

log = structlog.get_logger(__name__)
LEASE = timedelta(seconds=60)

_CLAIM = text("""
UPDATE webhook_deliveries SET status = 'delivering', next_attempt_at = :lease_until
WHERE id IN (
    SELECT d.id FROM webhook_deliveries d
    WHERE d.status IN ('pending', 'delivering') AND d.next_attempt_at <= :now
      AND NOT EXISTS (
        SELECT 1 FROM webhook_deliveries e
        WHERE e.target_id = d.target_id AND e.conversation_id IS NOT DISTINCT FROM d.conversation_id
          AND e.id < d.id AND e.status IN ('pending', 'delivering'))
    ORDER BY d.id LIMIT :batch FOR UPDATE SKIP LOCKED)
RETURNING id
""")


_PURGE = text("""
DELETE FROM webhook_deliveries WHERE id IN (
    SELECT id FROM webhook_deliveries
    WHERE status IN ('succeeded', 'failed') AND completed_at < :cutoff
    LIMIT :batch FOR UPDATE SKIP LOCKED)
""")
PURGE_BATCH = 1000
PURGE_INTERVAL_SECONDS = 600.0
# The longest an idle worker sleeps without a due row or a notification (a missed NOTIFY costs at most this).
IDLE_MAX_SECONDS = 10.0
_NEXT_DUE = text("SELECT min(next_attempt_at) FROM webhook_deliveries WHERE status IN ('pending', 'delivering')")


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)], never below a tenth of the base."""
    return max(base / 10, random.uniform(0, min(cap, base * 2 ** max(attempt - 1, 0))))


class DeliveryWorker:
    # The process role that runs it (BackgroundWorkers.select, ``--workers``); "shared": every process.
    role = "shared"

    def __init__(
        self,
        resources: Resources,
        *,
        poll_interval: float = 0.25,
        batch: int = 20,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.res = resources
        self.settings = resources.settings
        self.http = OutboundHttp(
            allow_private=self.settings.outbound_allow_private, timeout=self.settings.webhook_timeout_seconds
        )
        self.poll_interval = poll_interval
        self.batch = batch
        self.clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Inserts wake the worker (migration 0019's trigger); while not listening it polls every poll_interval.
        self.wakeup = DatabaseWakeup(self.settings, "webhook_deliveries", fallback_seconds=poll_interval)

    async def start(self) -> None:
        await self.wakeup.start()
        self._task = asyncio.create_task(self._run(), name="webhook-deliveries")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, 15)
        await self.wakeup.stop()
        await self.http.aclose()

    async def _run(self) -> None:
        next_purge = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_purge:
                    await self.purge_finished()
                    next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
                handled = await self.run_once()
            except Exception as exc:
                log.warning("delivery_loop_error", error=type(exc).__name__)
                handled = 0
            if not handled:
                await self.wakeup.wait(await self.idle_seconds(), self._stopping)

    async def idle_seconds(self) -> float:
        """How long to sleep with nothing to claim: until the earliest pending row is due, at least
        ``poll_interval`` (a due row held back behind another replica's delivery) and at most
        ``IDLE_MAX_SECONDS``."""
        try:
            async with transaction(self.res.sessionmaker) as session:
                due: datetime | None = await session.scalar(cross_tenant(_NEXT_DUE))
        except Exception as exc:
            log.warning("delivery_next_due_error", error=type(exc).__name__)
            return self.poll_interval
        if due is None:
            return IDLE_MAX_SECONDS
        return min(IDLE_MAX_SECONDS, max(self.poll_interval, (due - self.clock()).total_seconds()))

    async def purge_finished(self) -> int:
        """Deletes finished deliveries older than the log's retention, a bounded batch at a time."""
        cutoff = self.clock() - timedelta(days=self.settings.webhook_delivery_log_days)
        deleted = 0
        while True:
            async with transaction(self.res.sessionmaker) as session:
                result = await session.execute(cross_tenant(_PURGE), {"cutoff": cutoff, "batch": PURGE_BATCH})
            deleted += affected_rows(result)
            if affected_rows(result) < PURGE_BATCH or self._stopping.is_set():
                return deleted

    async def run_once(self) -> int:
        now = self.clock()
        async with transaction(self.res.sessionmaker) as session:
            ids = (
                # Due rows of every account: one worker pool serves them all.
                (
                    await session.execute(
                        cross_tenant(_CLAIM), {"now": now, "lease_until": now + LEASE, "batch": self.batch}
                    )
                )
                .scalars()
                .all()
            )
        await asyncio.gather(*(self._attempt(i) for i in ids))
        return len(ids)

    async def _target(self, row: WebhookDelivery) -> tuple[str | None, list[str], str | None]:
        """(url, signing secrets, reason it cannot be sent)."""
        async with tenant_session(self.res.sessionmaker, row.account_id) as session:
            if row.target_kind == "inbox_callback":
                inbox = await session.get(Inbox, row.target_id)
                if inbox is None:
                    return None, [], "inbox_deleted"
                secrets = decrypt_secrets(self.res.keyring, inbox.id, inbox.secrets_encrypted)
                return (inbox.settings or {}).get("callback_url"), current_secrets(secrets), None
            subscription = await session.get(WebhookSubscription, row.target_id)
            if subscription is None:
                return None, [], "subscription_deleted"
            if not subscription.enabled:
                return None, [], "subscription_disabled"
            secret = self.res.keyring.decrypt(
                subscription.secret_encrypted, subscription_secret_aad(subscription.id)
            ).decode()
            return subscription.url, [secret], None

    async def _attempt(self, delivery_id: int) -> None:
        async with self.res.sessionmaker() as session:
            # A row this worker just claimed, of any account: the rest of the attempt is scoped to its account.
            row = await session.get(WebhookDelivery, delivery_id, execution_options={CROSS_TENANT_OPTION: True})
        if row is None:
            return
        try:
            url, secrets, blocked = await self._target(row)
        except Exception as exc:
            # E.g. a secret that no longer decrypts: count it as a failed attempt (backoff, then failed) rather
            # than leaving the row claimed, which would hold back this conversation's later deliveries.
            log.warning("delivery_target_error", delivery_id=row.id, error=type(exc).__name__)
            await self._record(row, None, "target_unavailable", permanent=False)
            return
        status_code: int | None = None
        error: str | None = blocked
        if blocked is None and url and secrets:
            try:
                response = await self.http.post(
                    url, content=row.body, headers=signing.signed_headers(secrets[0], row.body)
                )
                status_code = response.status_code
                error = None if 200 <= status_code < 300 else f"http_{status_code}"
            except UnsafeUrl:
                error, blocked = "url_not_allowed", "url_not_allowed"
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.HTTPError as exc:
                error = type(exc).__name__
        elif blocked is None:
            error = blocked = "no_target_url"
        await self._record(row, status_code, error, permanent=blocked is not None)

    async def _record(
        self, row: WebhookDelivery, status_code: int | None, error: str | None, *, permanent: bool
    ) -> None:
        attempts = row.attempts + 1
        now = self.clock()
        if error is None:
            status = "succeeded"
        elif permanent or attempts >= self.settings.webhook_max_attempts:
            status = "failed"
        else:
            status = "pending"
        values: dict[str, object] = {
            "attempts": attempts,
            "last_status_code": status_code,
            "last_error": error,
            "status": status,
        }
        if status == "pending":
            delay = backoff_seconds(
                attempts, self.settings.webhook_retry_base_seconds, self.settings.webhook_retry_max_seconds
            )
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        else:
            values["completed_at"] = now
            # The log keeps what happened, not what was sent: the payload may hold message text.
            values["body"] = b""
        disabled: WebhookSubscription | None = None
        async with tenant_session(self.res.sessionmaker, row.account_id, begin=True) as session:
            await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == row.id).values(**values))
            if row.target_kind == "subscription" and status != "pending":
                disabled = await self._count_subscription_outcome(session, row, succeeded=status == "succeeded")
        if disabled is not None:  # the connectors stop queueing deliveries for it at once
            await bump_revision(self.res.redis, self.res.keys, row.account_id)
            # After the commit: an owner who reads the subscription on this frame sees it disabled.
            await self._tell_owners(disabled)
        metrics.OUTBOUND_DELIVERIES.labels(row.target_kind, status).inc()
        if row.target_kind == "inbox_callback" and status != "pending" and row.message_id and row.conversation_id:
            result = (
                DeliveryResult(status="sent")
                if status == "succeeded"
                else DeliveryResult(status="failed", reason=error)
            )
            await publish_delivery_update(self.res, row.account_id, row.conversation_id, row.message_id, result)

    async def _count_subscription_outcome(
        self, session: AsyncSession, row: WebhookDelivery, *, succeeded: bool
    ) -> WebhookSubscription | None:
        """Counts a finished delivery against its subscription; the subscription when this disabled it."""
        subscription = await session.get(WebhookSubscription, row.target_id, with_for_update=True)
        if subscription is None:
            return None
        if succeeded:
            subscription.consecutive_failures = 0
            return None
        subscription.consecutive_failures += 1
        if subscription.enabled and subscription.consecutive_failures >= self.settings.webhook_disable_after_failures:
            subscription.enabled = False
            subscription.disabled_reason = f"{subscription.consecutive_failures} deliveries failed in a row"
            return subscription
        return None

    async def _tell_owners(self, subscription: WebhookSubscription) -> None:
        async with tenant_session(self.res.sessionmaker, subscription.account_id) as session:
            owners = (
                await session.scalars(select(User.id).where(User.role == "owner", User.deleted_at.is_(None)))
            ).all()
        log.warning(
            "webhook_subscription_disabled",
            tenant_id=str(subscription.account_id),
            count=subscription.consecutive_failures,
        )
        for owner in owners:
            await self.res.streams.push_once(
                self.res.keys.agent_stream(owner),
                f"webhook-disabled:{subscription.id}",
                {
                    "type": "webhook.disabled",
                    "webhook_id": str(subscription.id),
                    "reason": subscription.disabled_reason,
                },
            )
