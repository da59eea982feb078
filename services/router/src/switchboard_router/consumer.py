"""The router's consumer: which events trigger which routing work."""

from __future__ import annotations

from aiokafka import ConsumerRecord
from switchboard_common.bus import AGENTS_TOPIC, CONVERSATIONS_TOPIC, EventConsumer
from switchboard_common.events import (
    AgentPresenceChanged,
    ConversationCreated,
    ConversationStatusChanged,
    Event,
    MessageCreated,
)
from switchboard_common.runtime import Resources

from switchboard_router.assignment import drain_queue, route_conversation


class RouterConsumer:
    def __init__(self, resources: Resources) -> None:
        self.res = resources

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="router",
            topics=[CONVERSATIONS_TOPIC, AGENTS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if isinstance(event, ConversationCreated) and event.payload.status == "open":
            await route_conversation(self.res, event.tenant_id, event.conversation_id)
        elif isinstance(event, MessageCreated) and event.payload.direction == "inbound":
            # Also covers a conversation whose "created" event was never published (crash in ingest).
            await route_conversation(self.res, event.tenant_id, event.conversation_id)
        elif isinstance(event, ConversationStatusChanged):
            if event.payload.status == "open":
                await route_conversation(self.res, event.tenant_id, event.conversation_id)
            else:
                await drain_queue(self.res, event.tenant_id)
        elif isinstance(event, AgentPresenceChanged) and event.payload.status == "online":
            await drain_queue(self.res, event.tenant_id)
