"""Outbound delivery: agent (and bot) replies leave through the channel of their conversation.

Each channel provides a :class:`ChannelSender`. The outcome is published as ``message.delivery_updated``
so the agent sees it; a sender that raises a transient error leaves the event on Kafka to be retried.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from aiokafka import ConsumerRecord
from switchboard_common import metrics
from switchboard_common.bus import CONVERSATIONS_TOPIC, EventConsumer
from switchboard_common.events import Event, MessageCreated, MessageDeliveryPayload, MessageDeliveryUpdated
from switchboard_common.runtime import Resources

DELIVERY_NAMESPACE = uuid.UUID("9d3c1c0e-6f5b-4d7e-b1a4-2c8f5e7a9b10")


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
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if not isinstance(event, MessageCreated) or event.payload.direction != "outbound":
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
                status=result.status,  # type: ignore[arg-type]
                reason=result.reason,
                external_id=result.external_id,
            ),
        )
    )
