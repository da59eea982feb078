"""The feed: conversation events that change routing go to their account's writer.

Conversation events are keyed by conversation (one conversation's events stay in order), but an account's
routing must be decided in one place: the feed (consumer group ``router``) forwards the ones the writer acts
on — a conversation created, a message (wakes a snoozed conversation, stops the no-reply timer, restarts the
inactivity timer), a status changed by another service (the bot handing over), an SLA breach asking for a
higher priority — unchanged onto the routing
topic, keyed by account. Records the router published itself are not sent back. Offsets are committed after
the forwarded records are acknowledged (at least once; the writer's handling is idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from switchboard_common.infra import metrics
from switchboard_common.infra.bus import (
    ACCOUNT_HEADER,
    CONVERSATIONS_TOPIC,
    ROUTING_TOPIC,
    LagReporter,
    kafka_connection,
)
from switchboard_common.infra.errors import error_location
from switchboard_common.infra.runtime import Resources

from switchboard_router.writer import ORIGIN_HEADER

log = structlog.get_logger(__name__)
# An SLA breach too: the priority it asks for is a routing decision, so the writer applies it.
FORWARDED_TYPES = frozenset(
    {b"conversation.created", b"message.created", b"conversation.status_changed", b"conversation.sla_breached"}
)


def routing_key(record: ConsumerRecord) -> bytes | None:
    """The account a forwarded record belongs to (its key on the routing topic), or None to skip it."""
    headers = dict(record.headers or ())
    if headers.get(ORIGIN_HEADER[0]) == ORIGIN_HEADER[1]:
        return None
    event_type = headers.get("event_type")
    if event_type is not None and event_type not in FORWARDED_TYPES:
        return None
    account = headers.get(ACCOUNT_HEADER)
    if event_type is not None and account:
        return bytes(account)  # both from headers: the record is forwarded as it is, never parsed here
    try:  # a record from before the account header: its JSON says
        data = json.loads(record.value)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type", "").encode() not in FORWARDED_TYPES:
        return None
    tenant = data.get("tenant_id")
    return str(tenant).encode() if tenant else None


class _Joined(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no types; subscribe() requires this base (isinstance)
    def __init__(self, feed: RoutingFeed) -> None:
        self.feed = feed

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self.feed._assigned = False

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.feed._assigned = True
        self.feed._polled_since_assignment = False


class RoutingFeed:
    def __init__(self, res: Resources, *, batch_limit: int = 500) -> None:
        self.res = res
        self.settings = res.settings
        self.group = self.settings.consumer_group("router")
        self.source = self.settings.topic(CONVERSATIONS_TOPIC)
        self.target = self.settings.topic(ROUTING_TOPIC)
        self.batch_limit = batch_limit
        self._consumer: AIOKafkaConsumer | None = None
        self._lag = LagReporter(self.group)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.started = asyncio.Event()
        # Joined the group and polled since: what /readyz waits for.
        self._assigned = False
        self._polled_since_assignment = False

    @property
    def ready(self) -> bool:
        return self._assigned and self._polled_since_assignment and not self._stopping.is_set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="router-feed")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=20)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
            self._consumer = None

    async def _connect(self) -> AIOKafkaConsumer | None:
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                **kafka_connection(self.settings),
                group_id=self.group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                isolation_level="read_committed",
                max_poll_records=self.batch_limit,
                fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
                session_timeout_ms=10000,
                heartbeat_interval_ms=1000,
                client_id=f"{self.settings.service_name}-{self.group}",
            )
            try:
                await consumer.start()
                consumer.subscribe([self.source], listener=_Joined(self))
                self._consumer = consumer
                return consumer
            except KafkaError as exc:
                log.warning("feed_connect_retry", error=type(exc).__name__)
                with contextlib.suppress(Exception):
                    await consumer.stop()
                await asyncio.sleep(1.0)
        return None

    async def _run(self) -> None:
        consumer = await self._connect()
        while consumer is not None and not self._stopping.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_limit)
                self.started.set()
                self._polled_since_assignment = self._assigned
                if batches:
                    await self._forward(consumer, batches)
                await self._lag.report(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep forwarding: the broker may be restarting (nothing was committed)
                log.warning("feed_loop_error", error=type(exc).__name__, where=error_location(exc))
                await asyncio.sleep(1.0)

    async def _forward(self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        producer = self.res.bus.producer
        sent = []
        forwarded: list[str] = []
        for records in batches.values():
            for record in records:
                key = routing_key(record)
                if key is not None:
                    sent.append(
                        await producer.send(self.target, value=record.value, key=key, headers=list(record.headers))
                    )
                    forwarded.append((dict(record.headers or ()).get("event_type") or b"unknown").decode())
        try:
            for future in sent:
                await future
        except Exception:
            # Not acknowledged: go back and forward them again (duplicates are harmless to the writer).
            for tp, records in batches.items():
                consumer.seek(tp, records[0].offset)
            raise
        with contextlib.suppress(KafkaError):
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})
        # The feed's handling is forwarding: counted like every consumer's handled events, which operators watch.
        for event_type in forwarded:
            metrics.EVENTS_HANDLED.labels(self.group, event_type, "ok").inc()
