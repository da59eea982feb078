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

import contextlib
import json

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from switchboard_common.infra import metrics
from switchboard_common.infra.bus import (
    ACCOUNT_HEADER,
    CONVERSATIONS_TOPIC,
    ROUTING_TOPIC,
    EventFilter,
    GroupMember,
    LagReporter,
    ReadinessListener,
    SharedConsumerGroup,
    group_consumer,
)
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


class RoutingFeed(GroupMember):
    # In the router's process, a member of the shared group with the SLA clocks (infra.bus.share_groups): one
    # fetch of the conversations topic for both, the feed forwarding its records undecoded.
    shareable = True
    role = "shared"

    def __init__(self, res: Resources, *, batch_limit: int = 500) -> None:
        super().__init__(res.settings, res.settings.consumer_group("router"), task_name="router-feed")
        self.res = res
        self.source = self.settings.topic(CONVERSATIONS_TOPIC)
        self.target = self.settings.topic(ROUTING_TOPIC)
        self.batch_limit = batch_limit
        self._lag = LagReporter(self.group)
        # What a shared group reads of it (infra.bus.SharedMember): the agent-facing path, hot.
        self.topics = [self.source]
        self.accepts: EventFilter | None = EventFilter(types=frozenset(t.decode() for t in FORWARDED_TYPES))
        self.fetch_max_wait_ms = self.settings.kafka_fetch_max_wait_ms
        self.poll_interval = 0.0
        self._shared: SharedConsumerGroup | None = None

    def _make_consumer(self) -> AIOKafkaConsumer:
        consumer = group_consumer(self.settings, self.group, max_poll_records=self.batch_limit)
        consumer.subscribe([self.source], listener=ReadinessListener(self))
        return consumer

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_limit)
        self._polled()
        if batches:
            await self._forward(consumer, batches)
        await self._lag.report(consumer)

    async def _process(
        self, batches: dict[TopicPartition, list[ConsumerRecord]], handled: dict[TopicPartition, int]
    ) -> None:
        """As a shared group's member: forwards the records and waits for their acknowledgements; a failure
        raises, and the group hands the same records again (duplicates are harmless to the writer)."""
        await self._send(batches)
        for tp, records in batches.items():
            handled[tp] = records[-1].offset + 1

    async def _forward(self, consumer: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        try:
            await self._send(batches)
        except Exception:
            # Not acknowledged: go back and forward them again (duplicates are harmless to the writer).
            for tp, records in batches.items():
                consumer.seek(tp, records[0].offset)
            raise
        with contextlib.suppress(KafkaError):
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})

    async def _send(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
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
        for future in sent:
            await future
        # The feed's handling is forwarding: counted like every consumer's handled events, which operators watch.
        for event_type in forwarded:
            metrics.EVENTS_HANDLED.labels(self.group, event_type, "ok").inc()
