"""The ack path every channel webhook shares: find the inbox (cached), skip what was already accepted,
publish durably, then remember it. Slow work (contact resolution, downloads, bot calls) happens after,
from Kafka."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.events import Event
from switchboard_common.domain.inboxes import channel_claims
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.infra import metrics
from switchboard_common.infra.runtime import Resources

DEDUPE_TTL_SECONDS = 24 * 3600
INBOX_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class InboxRecord:
    id: uuid.UUID
    account_id: uuid.UUID
    channel: str
    name: str
    settings: dict[str, Any]
    secrets: dict[str, Any]


class InboxDirectory:
    """Inbox lookups for the ack path, cached briefly so a burst of webhooks costs one query."""

    def __init__(self, resources: Resources, ttl: float = INBOX_CACHE_SECONDS) -> None:
        self.res = resources
        self.ttl = ttl
        self._cache: dict[tuple[str, str, str], tuple[float, InboxRecord | None]] = {}

    def _record(self, inbox: Inbox) -> InboxRecord:
        return InboxRecord(
            id=inbox.id,
            account_id=inbox.account_id,
            channel=inbox.channel,
            name=inbox.name,
            settings=dict(inbox.settings or {}),
            secrets=decrypt_secrets(self.res.keyring, inbox.id, inbox.secrets_encrypted),
        )

    async def _cached(self, key: tuple[str, str, str], query: Callable[[], Any]) -> InboxRecord | None:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self.res.sessionmaker() as session:
            # The lookup that finds the account: by what a webhook names (inbox, page, workspace).
            inbox = await session.scalar(cross_tenant(query()))
            record = self._record(inbox) if inbox is not None else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + self.ttl, record)
        return record

    async def by_id(self, inbox_id: uuid.UUID, channel: str) -> InboxRecord | None:
        return await self._cached(
            # The query is built only on a miss: building it costs more than a cache hit.
            ("id", channel, str(inbox_id)),
            lambda: select(Inbox).where(Inbox.id == inbox_id, Inbox.channel == channel),
        )

    async def messenger_page(self, page_id: str) -> InboxRecord | None:
        """The inbox that connected this page (``channel_claims``): never just any inbox naming it."""
        return await self._cached(
            ("messenger", "page", page_id),
            lambda: channel_claims.inbox_by_claim(channel_claims.messenger_page(page_id)),
        )

    async def slack(self, team_id: str, channel_id: str | None) -> InboxRecord | None:
        """The inbox of the account that connected this workspace: the one holding the event's channel, else
        its oldest (direct messages, threads in other channels)."""
        return await self._cached(
            ("slack", team_id, channel_id or ""), lambda: channel_claims.slack_inbox_query(team_id, channel_id)
        )

    def forget(self, inbox_id: uuid.UUID) -> None:
        for key, (_expiry, record) in list(self._cache.items()):
            if record is not None and record.id == inbox_id:
                del self._cache[key]


async def seen(res: Resources, inbox_id: uuid.UUID, ids: Sequence[str]) -> set[str]:
    """Which of these platform ids were already accepted (durably on Kafka) for this inbox. The ids live in
    one sorted set per inbox, scored by when they may be forgotten (the key registry names it from the inbox)."""
    if not ids:
        return set()
    forget_at = await res.redis.zmscore(res.keys.seen(inbox_id), list(ids))
    now = time.time()
    return {i for i, at in zip(ids, forget_at, strict=True) if at is not None and at > now}


async def publish_and_remember(
    res: Resources, inbox_id: uuid.UUID, events: Sequence[Event], ids: Sequence[str]
) -> None:
    """Publish (acks=all), then record the ids: a retry of a failed attempt must publish again."""
    if events:
        await res.bus.publish_many(events)
    if ids:
        key, now = res.keys.seen(inbox_id), time.time()
        async with res.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, dict.fromkeys(ids, now + DEDUPE_TTL_SECONDS))
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.expire(key, DEDUPE_TTL_SECONDS)
            await pipe.execute()


class AckTimer:
    """Counts a webhook by channel and outcome, and its time to acknowledge."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.started = time.perf_counter()

    def done(self, outcome: str) -> None:
        metrics.WEBHOOKS.labels(self.channel, outcome).inc()
        metrics.WEBHOOK_ACK_SECONDS.labels(self.channel).observe(time.perf_counter() - self.started)
