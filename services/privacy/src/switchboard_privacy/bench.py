"""Privacy benchmarks against real servers (``make bench`` calls :func:`measure`).

``python -m switchboard_privacy.bench --total 1000000 --subject 10000 --retention 200000`` uses DATABASE_URL /
REDIS_URL / KAFKA_BOOTSTRAP_SERVERS (a migrated database). It seeds a throwaway account whose database holds
``total`` messages, ``subject`` of them the subject's (plus Redis stream frames and an event key), then times a
whole erasure through the request worker (every store; the key-cache wait is set to 0, production adds
SUBJECT_KEY_CACHE_SECONDS). Then it ages ``retention`` messages of another account, times the retention sweep
(rows/second) and the p99 of the ingest path's database work (contact, conversation, message insert) with and
without the sweep running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.conversations.ingest import open_conversation, resolve_contact
from switchboard_common.domain.encryption.shredding import event_codec, subject_keys_of
from switchboard_common.domain.privacy.models import PrivacyRequest, RetentionPolicy
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.runtime import Resources

from switchboard_privacy.requests.worker import RequestWorker
from switchboard_privacy.retention.sweep import sweep
from switchboard_privacy.settings import PrivacySettings


async def _account(res: Resources) -> tuple[uuid.UUID, uuid.UUID]:
    account_id, inbox_id = uuid.uuid4(), uuid.uuid4()
    async with res.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO accounts (id, name, status, default_max_conversations, settings, created_at, plan) "
                "VALUES (:a, 'bench', 'active', 5, '{}', now(), 'paid')"
            ),
            {"a": account_id},
        )
        await session.execute(
            text(
                "INSERT INTO inboxes (id, account_id, name, channel, settings, routing, created_at) "
                "VALUES (:i, :a, 'web', 'web', '{}', '{}', now())"
            ),
            {"i": inbox_id, "a": account_id},
        )
    return account_id, inbox_id


async def _seed_messages(
    res: Resources, account_id: uuid.UUID, inbox_id: uuid.UUID, *, contacts: int, per_contact: int, age_days: int = 0
) -> list[uuid.UUID]:
    """``contacts`` contacts with one conversation each and ``per_contact`` messages, bulk-inserted in SQL."""
    contact_ids = [uuid.uuid4() for _ in range(contacts)]
    async with res.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO contacts (id, account_id, name, email, created_at) "
                "SELECT c, :a, 'Bench ' || left(c::text, 8), left(c::text, 8) || '@bench.example', now() "
                "FROM unnest(CAST(:ids AS uuid[])) AS c"
            ),
            {"a": account_id, "ids": contact_ids},
        )
        await session.execute(
            text(
                "INSERT INTO conversations (id, account_id, inbox_id, contact_id, channel, status, priority, "
                "created_at, updated_at, routing_explanation, assignment_version, routing_requirements) "
                "SELECT gen_random_uuid(), :a, :i, c, 'web', 'resolved', 0, now(), now(), '{}', 0, '{}' "
                "FROM unnest(CAST(:ids AS uuid[])) AS c"
            ),
            {"a": account_id, "i": inbox_id, "ids": contact_ids},
        )
        await session.execute(
            text(
                "INSERT INTO messages (id, account_id, conversation_id, direction, sender_type, text, attachments, "
                "created_at) SELECT gen_random_uuid(), :a, v.id, 'inbound', 'contact', 'bench message ' || g, '[]', "
                "now() - make_interval(days => :age) FROM conversations v, generate_series(1, :n) g "
                "WHERE v.contact_id = ANY(:ids)"
            ),
            {"a": account_id, "ids": contact_ids, "n": per_contact, "age": age_days},
        )
    return contact_ids


async def _ingest_once(res: Resources, account_id: uuid.UUID, inbox_id: uuid.UUID) -> float:
    started = time.perf_counter()
    async with tenant_session(res.sessionmaker, account_id, begin=True) as session:
        contact_id = await resolve_contact(
            session, account_id=account_id, channel="web", external_id=f"visitor:{uuid.uuid4()}"
        )
        conversation = await open_conversation(
            session,
            account_id=account_id,
            inbox_id=inbox_id,
            contact_id=contact_id,
            channel="web",
            pseudonyms=res.pseudonyms,
        )
        await session.execute(
            text(
                "INSERT INTO messages (id, account_id, conversation_id, direction, sender_type, text, attachments, "
                "created_at) VALUES (gen_random_uuid(), :a, :c, 'inbound', 'contact', 'hi', '[]', now())"
            ),
            {"a": account_id, "c": conversation.id},
        )
    return time.perf_counter() - started


async def _ingest_p99(res: Resources, account_id: uuid.UUID, inbox_id: uuid.UUID, samples: int) -> float:
    latencies = [await _ingest_once(res, account_id, inbox_id) for _ in range(samples)]
    return statistics.quantiles(latencies, n=100)[98] * 1000


async def measure(
    settings: PrivacySettings, total: int = 1_000_000, subject: int = 10_000, retention: int = 200_000
) -> dict[str, Any]:
    settings = settings.model_copy(update={"subject_key_cache_seconds": 0.0})
    res = await Resources.open(settings, event_codec)
    try:
        account_id, inbox_id = await _account(res)
        others = max(total - subject, 0)
        per_contact = 1000
        for _ in range(0, others // per_contact):
            await _seed_messages(res, account_id, inbox_id, contacts=1, per_contact=per_contact)
        (contact_id,) = await _seed_messages(res, account_id, inbox_id, contacts=1, per_contact=subject)
        async with res.sessionmaker() as session, session.begin():
            await subject_keys_of(res.bus).ensure(session, account_id, f"contact:{contact_id}")
        for i in range(200):
            await res.redis.xadd(res.keys.contact_stream(contact_id), {"frame": json.dumps({"n": i})})
        async with res.sessionmaker() as session:
            in_db = await session.scalar(text("SELECT count(*) FROM messages"))
        request = PrivacyRequest(
            id=uuid.uuid4(),
            account_id=account_id,
            type="erasure",
            status="in_progress",
            subject={},
            changes={},
            contact_ids=[str(contact_id)],
            due_at=utcnow(),
            progress={},
            report={},
            attempts=1,
        )
        async with res.sessionmaker() as session, session.begin():
            session.add(request)
        async with httpx.AsyncClient(timeout=10.0) as http:
            worker = RequestWorker(res, settings, http=http)
            started = time.perf_counter()
            await worker.process(request.id)
            erasure_seconds = time.perf_counter() - started
        async with res.sessionmaker() as session:
            status = await session.scalar(text("SELECT status FROM privacy_requests WHERE id = :r"), {"r": request.id})
        if status != "completed":
            raise RuntimeError(f"the benchmark erasure did not complete ({status})")

        old_account, old_inbox = await _account(res)
        await _seed_messages(
            res, old_account, old_inbox, contacts=max(retention // 1000, 1), per_contact=1000, age_days=90
        )
        async with res.sessionmaker() as session, session.begin():
            session.add(RetentionPolicy(account_id=old_account, category="messages", days=30, updated_at=utcnow()))
        ingest_account, ingest_inbox = await _account(res)
        idle_p99 = await _ingest_p99(res, ingest_account, ingest_inbox, 300)
        sweep_task = asyncio.create_task(sweep(res, settings, account_id=old_account))
        busy: list[float] = []
        while not sweep_task.done():
            busy.append(await _ingest_once(res, ingest_account, ingest_inbox))
        result = await sweep_task
        swept = result.rows.get("messages", 0)
        return {
            "messages_in_database": int(in_db or 0),
            "subject_messages": subject,
            "erasure_seconds": round(erasure_seconds, 2),
            "retention_rows": swept,
            "retention_rows_per_second": round(swept / result.seconds) if result.seconds else 0,
            "ingest_p99_ms_idle": round(idle_p99, 2),
            "ingest_p99_ms_during_sweep": round(statistics.quantiles(busy, n=100)[98] * 1000, 2)
            if len(busy) >= 2
            else None,
            "ingest_samples_during_sweep": len(busy),
        }
    finally:
        await res.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--subject", type=int, default=10_000)
    parser.add_argument("--retention", type=int, default=200_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(PrivacySettings(), args.total, args.subject, args.retention)), indent=2))


if __name__ == "__main__":
    main()
