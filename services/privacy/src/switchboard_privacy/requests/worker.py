"""Runs verified requests store by store. Rows are claimed with a lease in PostgreSQL (``FOR UPDATE SKIP
LOCKED``), so replicas share the work and a crashed worker's request is picked up when its lease expires.
Each finished step is committed with its counts before the next starts; a failing store is retried with
backoff (its error class shown on the request), never skipped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import text
from sqlalchemy.orm.attributes import flag_modified
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.encryption.shredding import lift_fences, subject_keys_of
from switchboard_common.domain.privacy.models import PrivacyRequest
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources

from switchboard_privacy import metrics
from switchboard_privacy.audit import log as audit
from switchboard_privacy.ledger import ErasureLedger
from switchboard_privacy.lifecycle.sweep import backups_expire_by
from switchboard_privacy.requests import exports
from switchboard_privacy.settings import PrivacySettings
from switchboard_privacy.stores import kafka, postgres, redis_store, slack
from switchboard_privacy.stores.subject import Subject, load_subject

log = structlog.get_logger(__name__)

# Order matters: the erasure ledger first (outside the backups, so a restore cannot bring the person back),
# then third parties and copies, PostgreSQL (the record of what to find) last.
STEPS: dict[str, tuple[str, ...]] = {
    "erasure": ("ledger", "slack", "attachments", "kafka", "redis", "postgres"),
    "access": ("export",),
    # The record first; then old Kafka copies of the contact fields become unreadable (profile keys rotated);
    # then the corrected fields go out as contact.updated to consumers holding copies.
    "rectification": ("postgres", "kafka", "publish"),
}
MAX_ATTEMPTS = 50


class RequestWorker:
    def __init__(self, resources: Resources, settings: PrivacySettings, *, http: httpx.AsyncClient | None = None):
        self.resources = resources
        self.settings = settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.http = http
        self.ledger = ErasureLedger.from_settings(settings)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._states_seen: set[str] = set()

    async def start(self) -> None:
        if self.http is None:
            self.http = httpx.AsyncClient(timeout=10.0)
        self._task = asyncio.create_task(self._run(), name="privacy-requests")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, 15)
        if self.http is not None:
            await self.http.aclose()
        await self.ledger.close()

    async def export_due_metrics(self) -> dict[str, int]:
        """Open requests past their deadline, and due within PRIVACY_NEAR_DUE_HOURS (gauge per state); every
        request by state; the overdue count operators alert on (``switchboard_privacy_requests_overdue``)."""
        now = utcnow()
        async with cross_tenant_session(self.resources.sessionmaker) as session:
            row = (
                await session.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE due_at < :now) AS overdue, "
                        "count(*) FILTER (WHERE due_at >= :now AND due_at < :soon) AS near_due "
                        "FROM privacy_requests WHERE status NOT IN ('completed', 'failed')"
                    ),
                    {"now": now, "soon": now + timedelta(hours=self.settings.privacy_near_due_hours)},
                )
            ).one()
            by_state = {
                str(state): int(count)
                for state, count in await session.execute(
                    text("SELECT status, count(*) FROM privacy_requests GROUP BY status")
                )
            }
        metrics.REQUESTS_DUE.labels("overdue").set(row.overdue)
        metrics.REQUESTS_DUE.labels("near_due").set(row.near_due)
        metrics.REQUESTS_OVERDUE.set(row.overdue)
        # A state no request is in any more reads 0, not its last count.
        self._states_seen |= by_state.keys()
        for state in self._states_seen:
            metrics.REQUESTS_BY_STATE.labels(state).set(by_state.get(state, 0))
        return {"overdue": int(row.overdue), "near_due": int(row.near_due)}

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                # Drain every due request step before sleeping.
                handled = await self.run_once()
                while handled:
                    handled = await self.run_once()
                await self.export_due_metrics()
            except Exception as exc:
                log.warning("privacy_worker_error", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.privacy_worker_interval_seconds)

    async def claim(self) -> uuid.UUID | None:
        async with cross_tenant_session(self.resources.sessionmaker) as session, session.begin():
            claimed: uuid.UUID | None = await session.scalar(
                text(
                    "UPDATE privacy_requests SET lease_owner = :owner, lease_expires_at = :until, "
                    "status = 'in_progress', attempts = attempts + 1 "
                    "WHERE id = (SELECT id FROM privacy_requests "
                    "  WHERE status IN ('verified', 'in_progress') "
                    "  AND (next_attempt_at IS NULL OR next_attempt_at <= :now) "
                    "  AND (lease_expires_at IS NULL OR lease_expires_at < :now) "
                    "  ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
                ),
                {
                    "owner": self.owner,
                    "now": utcnow(),
                    "until": utcnow() + timedelta(seconds=self.settings.privacy_lease_seconds),
                },
            )
            return claimed

    async def run_once(self) -> bool:
        """Claims and works one request; returns whether there was one."""
        request_id = await self.claim()
        if request_id is None:
            return False
        await self.process(request_id)
        return True

    async def process(self, request_id: uuid.UUID) -> None:
        sm = self.resources.sessionmaker
        async with cross_tenant_session(sm) as session:
            request = await session.get(PrivacyRequest, request_id)
            assert request is not None
            steps = STEPS[request.type]
            for step in steps:
                state = dict(request.progress.get(step) or {})
                if state.get("status") == "done":
                    continue
                try:
                    counts = await self.run_step(request, step)
                except Exception as exc:
                    await session.rollback()
                    request = await session.get(PrivacyRequest, request_id, populate_existing=True)
                    assert request is not None
                    await self._fail_step(session, request, step, exc)
                    return
                await session.refresh(request)  # the step may have added to the report meanwhile
                state.update(status="done", counts=counts, finished_at=utcnow().isoformat(), error=None)
                request.progress = {**request.progress, step: state}
                await audit.record(
                    session,
                    account_id=request.account_id,
                    actor=f"system:{self.owner.split(':')[0]}",
                    action=f"{request.type}.{step}.done",
                    request_id=request.id,
                    details={"counts": counts},
                )
                await session.commit()
            await self._complete(session, request)

    async def run_step(self, request: PrivacyRequest, step: str) -> dict[str, Any]:
        res = self.resources
        contact_ids = [uuid.UUID(c) for c in request.contact_ids]
        async with cross_tenant_session(res.sessionmaker) as session:
            subject = await load_subject(session, request.account_id, contact_ids)
            await session.rollback()  # end the read; steps open their own transactions
            if step == "ledger":
                entry = await self.ledger.record(
                    "erasure",
                    subjects=[f"contact:{c}" for c in subject.contact_ids],
                    keys=kafka.subject_refs(res.pseudonyms, subject),
                    request_id=request.id,
                )
                return {"subjects": len(entry.subjects), "keys": len(entry.keys)}
            if step == "slack":
                assert self.http is not None
                counts, failures = await slack.erase(
                    session, subject, res.keyring, self.settings.slack_api_url, self.http
                )
                if failures:
                    await self._report(request.id, "not_deleted", failures)
                return counts
            if step == "attachments":
                store = res.attachments
                files = sum([await store.delete_contact(subject.account_id, c) for c in contact_ids])
                counts = {"files": files}
                exported = await exports.delete_exports_of(store, res.sessionmaker, subject.account_id, contact_ids)
                if exported:
                    counts["exports"] = exported
                return counts
            if step == "kafka":
                async with session.begin():
                    if request.type == "rectification":
                        counts = await kafka.rotate_profile_keys(session, res.pseudonyms, subject)
                    else:
                        counts = await kafka.erase(session, res.pseudonyms, subject)
                subject_keys_of(res.bus).forget(kafka.subject_refs(res.pseudonyms, subject))
                # No process may still hold a destroyed key in its cache when we report Kafka shredded.
                await asyncio.sleep(self.settings.subject_key_cache_seconds)
                return counts
            if step == "redis":
                return await redis_store.erase(session, res.redis, res.keys, res.pseudonyms, subject)
            if step == "postgres" and request.type == "erasure":
                return await self._final_erasure_step(request, subject, contact_ids)
            if step == "postgres" and request.type == "rectification":
                async with session.begin():
                    return await postgres.rectify(session, subject, request.changes)
            if step == "publish":
                # Published directly: this step is the retry loop, and the event id is deterministic.
                events = kafka.contact_updated_events(request.id, subject, request.changes)
                await res.bus.publish_many(events)
                rewritten = 0
                refused: list[dict[str, Any]] = []
                if "name" in request.changes:  # the only contact field a Slack thread header shows
                    assert self.http is not None
                    async with session.begin():
                        rewritten, refused = await slack.rewrite_thread_headers(
                            session,
                            subject,
                            request.changes["name"],
                            res.keyring,
                            self.settings.slack_api_url,
                            self.http,
                        )
                if refused and not request.report.get("not_rectified"):
                    await self._report(request.id, "not_rectified", refused)
                return {"events": len(events), "slack_threads": rewritten, "not_rectified": len(refused)}
            if step == "export":
                return await exports.build(res, self.settings, request, subject)
        raise ValueError(f"unknown step {step}")

    async def _final_erasure_step(
        self, request: PrivacyRequest, subject: Subject, contact_ids: list[uuid.UUID]
    ) -> dict[str, Any]:
        """The rows go, inside the fence the Kafka step raised: what arrived for the subject since the earlier
        steps (a message of a new conversation, an attachment, a Redis marker) is caught here. Keys of the subject
        as it is now are fenced again in the rows' transaction (a conversation opened meanwhile has a key the
        Kafka step never saw), Redis and attachments are swept again, and only then are the fences lifted."""
        res = self.resources
        async with cross_tenant_session(res.sessionmaker) as session:
            await redis_store.erase(session, res.redis, res.keys, res.pseudonyms, subject)
        async with cross_tenant_session(res.sessionmaker) as session, session.begin():
            late_keys = await kafka.erase(session, res.pseudonyms, subject)
            counts = await postgres.erase(session, subject, request.id)
        subject_keys_of(res.bus).forget(kafka.subject_refs(res.pseudonyms, subject))
        if late_keys["keys_destroyed"]:
            counts["late_keys"] = late_keys["keys_destroyed"]
        late_files = sum([await res.attachments.delete_contact(subject.account_id, c) for c in contact_ids])
        if late_files:
            counts["late_files"] = late_files
        # The fences go with the rest (they name the erased contact's ids): what was sealed under them stays
        # unreadable, and the same customer writing again later is a new contact with new keys.
        async with cross_tenant_session(res.sessionmaker) as session, session.begin():
            await lift_fences(session, kafka.subject_refs(res.pseudonyms, subject))
        return counts

    async def _report(self, request_id: uuid.UUID, key: str, items: list[dict[str, Any]]) -> None:
        async with cross_tenant_session(self.resources.sessionmaker) as session, session.begin():
            request = await session.get(PrivacyRequest, request_id, with_for_update=True)
            assert request is not None
            request.report = {**request.report, key: [*request.report.get(key, []), *items]}

    async def _fail_step(self, session: Any, request: PrivacyRequest, step: str, exc: Exception) -> None:
        state = dict(request.progress.get(step) or {})
        state.update(status="failed", error=type(exc).__name__, attempts=int(state.get("attempts", 0)) + 1)
        request.progress = {**request.progress, step: state}
        delay = min(self.settings.privacy_retry_base_seconds * 2 ** min(state["attempts"] - 1, 8), 600.0)
        request.next_attempt_at = utcnow() + timedelta(seconds=delay)
        request.lease_owner = None
        request.lease_expires_at = None
        if state["attempts"] >= MAX_ATTEMPTS:
            request.status = "failed"
        metrics.STORE_FAILURES.labels(step).inc()
        log.warning("privacy_step_failed", request_id=str(request.id), step=step, error=type(exc).__name__)
        await audit.record(
            session,
            account_id=request.account_id,
            actor="system:worker",
            action=f"{request.type}.{step}.failed",
            request_id=request.id,
            details={"error": type(exc).__name__, "attempts": state["attempts"]},
        )
        await session.commit()

    async def _complete(self, session: Any, request: PrivacyRequest) -> None:
        now = utcnow()
        stores = {step: request.progress[step].get("counts", {}) for step in STEPS[request.type]}
        certificate = {
            "request_id": str(request.id),
            "type": request.type,
            "received_at": request.created_at.isoformat(),
            "completed_at": now.isoformat(),
            "due_at": request.due_at.isoformat(),
            "on_time": now <= request.due_at,
            "stores": stores,
            "not_deleted": len(request.report.get("not_deleted", [])),
        }
        if request.type == "erasure":
            # Backups are not rewritten: copies taken before now expire by then, and a restore before that
            # erases the person again from the ledger.
            certificate["backups"] = {
                "retention_days": self.settings.backup_retention_days,
                "last_copy_expires_by": backups_expire_by(self.settings, now).isoformat(),
                "erasure_ledger": "a restore replays this erasure before the region serves traffic",
            }
        request.status = "completed"
        request.completed_at = now
        request.lease_owner = None
        request.lease_expires_at = None
        request.report = {**request.report, "certificate": certificate}
        if request.type == "erasure":
            # The request itself must not keep who it was about.
            request.subject = {}
            request.contact_ids = []
        flag_modified(request, "report")
        await audit.record(
            session,
            account_id=request.account_id,
            actor="system:worker",
            action=f"{request.type}.completed",
            request_id=request.id,
            details={"stores": stores},
        )
        await session.commit()
        metrics.REQUESTS_COMPLETED.labels(request.type).inc()
        log.info("privacy_request_completed", request_id=str(request.id), type=request.type)
