"""Outbound delivery: agent (and bot) replies leave through the channel of their conversation.

Each channel provides a :class:`ChannelSender`. The outcome is published as ``message.delivery_updated``
so the agent sees it; a sender that raises a transient error leaves the event on Kafka to be retried.

Channels whose platform can throttle us (Slack, Messenger) are only handed over by the shared dispatcher
(:class:`QueuedHandover`) and delivered by their own consumer group (:class:`ChannelOutbound`): a consumer
handles its partitions one record at a time, so a reply waiting for one platform would otherwise hold every
reply behind it. Inside such a group, replies of one conversation keep their order and are never dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import Event, MessageCreated, MessageDeliveryPayload, MessageDeliveryUpdated
from switchboard_common.infra import metrics
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.runtime import Resources

log = structlog.get_logger(__name__)
DELIVERY_NAMESPACE = uuid.UUID("9d3c1c0e-6f5b-4d7e-b1a4-2c8f5e7a9b10")
SENT_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class DeliveryResult:
    status: str  # "sent", "failed", or "queued" (a worker reports the outcome later)
    reason: str | None = None
    external_id: str | None = None


class ChannelSender(Protocol):
    async def deliver(self, event: MessageCreated) -> DeliveryResult: ...


class WebWidgetSender:
    """The widget's socket reads the contact's stream: delivering is appending to it, once."""

    def __init__(self, resources: Resources) -> None:
        self.res = resources

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        p = event.payload
        await self.res.streams.push_once(
            self.res.keys.contact_stream(p.contact_id),
            str(event.event_id),
            {
                "type": "message.created",
                "conversation_id": str(event.conversation_id),
                "message": {
                    "id": str(p.message_id),
                    "direction": p.direction,
                    "sender_type": p.sender_type,
                    "text": p.text,
                    "attachments": [a.model_dump(mode="json") for a in p.attachments],
                    "created_at": p.created_at.isoformat(),
                },
            },
        )
        return DeliveryResult(status="sent")


async def conversation_matches(res: Resources, event: MessageCreated) -> bool:
    """Whether the conversation row the reply is for belongs to the event's tenant and inbox. A record's tenant
    id is only what its producer wrote: one forged on the broker (tenant A, B's conversation and inbox) must not
    send through B's channel credentials. Such records are dropped and counted, never delivered."""
    async with tenant_session(res.sessionmaker, event.tenant_id) as session:
        inbox_id = await session.scalar(select(Conversation.inbox_id).where(Conversation.id == event.conversation_id))
    if inbox_id is not None and inbox_id == event.payload.inbox_id:
        return True
    metrics.FOREIGN_EVENTS.labels("message.created").inc()
    log.warning("event_tenant_mismatch", event_type=event.type, event_id=str(event.event_id))
    return False


class QueuedHandover:
    """The shared dispatcher's sender for a channel with its own group: that group delivers and reports."""

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        return DeliveryResult(status="queued")


class ChannelOutbound:
    """One channel's outbound consumer group: delivers its replies, once, and reports the outcome.

    The sender raises a transient error (a ``ConnectionError``) while the platform cannot take the reply,
    after waiting for it within a bounded patience (:mod:`switchboard_connectors.retrying`); the consumer then
    retries the same record without committing, so the reply stays on Kafka until delivered, in conversation
    order. Permanent errors end as ``failed`` with the reason; either way ``message.delivery_updated`` tells
    the agent.
    """

    # Read from record headers before decoding; the direction and channel filters pass events that carry
    # neither (a subclass handling conversation events adds their types).
    event_types: frozenset[str] = frozenset({"message.created"})

    def __init__(self, resources: Resources, channel: str, sender: ChannelSender) -> None:
        self.res = resources
        self.channel = channel
        self.sender = sender

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group=f"connectors-{self.channel}-outbound",
            # A platform's own API answers in hundreds of milliseconds and may throttle for seconds: a few polls a
            # second add nothing a customer notices, and spare the broker a fetch every 40 ms for replies that
            # are a small share of the topic (the agent-facing path, timeline and router, stays hot).
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(
                types=self.event_types, directions=frozenset({"outbound"}), channels=frozenset({self.channel})
            ),
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if not isinstance(event, MessageCreated):
            return
        p = event.payload
        if p.direction != "outbound" or p.channel != self.channel:
            return
        if not await conversation_matches(self.res, event):
            return
        # A redelivery after a crash between sending and committing must not send twice.
        sent_key = self.res.keys.outbound_sent(self.channel, p.message_id)
        previous = await self.res.redis.get(sent_key)
        if previous is not None:
            external_id = previous.decode() if isinstance(previous, bytes) else str(previous)
            result = DeliveryResult(status="sent", external_id=external_id or None)
        else:
            result = await self.sender.deliver(event)  # raises (transient) while the platform cannot take it
            if result.status == "sent":
                await self.res.redis.set(sent_key, result.external_id or "", ex=SENT_TTL_SECONDS)
        metrics.OUTBOUND_DELIVERIES.labels(self.channel, result.status).inc()
        if result.status == "failed":
            log.info("reply_failed", channel=self.channel, message_id=str(p.message_id), reason=result.reason)
        await publish_delivery_update(self.res, event.tenant_id, event.conversation_id, p.message_id, result)


class OutboundDispatcher:
    def __init__(self, resources: Resources, senders: dict[str, ChannelSender]) -> None:
        self.res = resources
        self.senders = senders

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-outbound",
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=frozenset({"message.created"}), directions=frozenset({"outbound"})),
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if not isinstance(event, MessageCreated) or event.payload.direction != "outbound":
            return
        if not await conversation_matches(self.res, event):
            return
        sender = self.senders.get(event.payload.channel)
        if sender is None:
            result = DeliveryResult(status="failed", reason=f"no sender for channel {event.payload.channel}")
        else:
            result = await sender.deliver(event)
        metrics.OUTBOUND_DELIVERIES.labels(event.payload.channel, result.status).inc()
        if result.status == "queued":
            return
        await publish_delivery_update(
            self.res, event.tenant_id, event.conversation_id, event.payload.message_id, result
        )


async def publish_delivery_update(
    res: Resources, tenant_id: uuid.UUID, conversation_id: uuid.UUID, message_id: uuid.UUID, result: DeliveryResult
) -> None:
    """Tells the agent what happened to a reply (deterministic id: repeating it changes nothing)."""
    await res.bus.publish(
        MessageDeliveryUpdated(
            event_id=uuid.uuid5(DELIVERY_NAMESPACE, f"{message_id}:{result.status}"),
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            payload=MessageDeliveryPayload(
                message_id=message_id,
                status=result.status,
                reason=result.reason,
                external_id=result.external_id,
            ),
        )
    )
