"""The router's consumer: which events trigger which routing work.

One conversation's events arrive in order (partition key = conversation id); every handler is idempotent
(state checks under the account lock, deterministic event ids), so a redelivery changes nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from sqlalchemy import select
from switchboard_common.domain.conversations import lifecycle, routing
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import (
    AgentPresenceChanged,
    ConversationAssigned,
    ConversationCreated,
    ConversationStatusChanged,
    ConversationUnassigned,
    Event,
    MessageCreated,
)
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.bus import AGENTS_TOPIC, CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.db import transaction
from switchboard_common.infra.outbox import add_events, publish_staged
from switchboard_common.infra.runtime import Resources

from switchboard_router.assignment import drain_queue, give_back, route_conversation

# What the handler below acts on; the rest of the topic is skipped from record headers.
ROUTER_EVENT_TYPES = frozenset(
    {
        "conversation.created",
        "message.created",
        "conversation.status_changed",
        "conversation.unassigned",
        "conversation.assigned",
        "agent.presence_changed",
    }
)


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
            accepts=EventFilter(types=ROUTER_EVENT_TYPES),
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if isinstance(event, ConversationCreated) and event.payload.status == "open":
            await route_conversation(self.res, event.tenant_id, event.conversation_id)
        elif isinstance(event, MessageCreated):
            await self._on_message(event)
        elif isinstance(event, ConversationStatusChanged):
            if event.payload.status == "open":
                if event.payload.handoff:
                    await self._apply_handoff(event)
                await route_conversation(self.res, event.tenant_id, event.conversation_id)
            else:
                await drain_queue(self.res, event.tenant_id)
        elif isinstance(event, ConversationUnassigned):
            # Back to routing (someone else), then the freed slot may serve the queue.
            await route_conversation(self.res, event.tenant_id, event.conversation_id)
            await drain_queue(self.res, event.tenant_id)
        elif isinstance(event, ConversationAssigned) and event.payload.previous_agent_id is not None:
            await drain_queue(self.res, event.tenant_id)  # a transfer freed the previous agent's slot
        elif isinstance(event, AgentPresenceChanged):
            if event.payload.status == "online":
                await drain_queue(self.res, event.tenant_id)
            elif event.payload.status == "offline":
                await give_back(self.res, event.tenant_id, event.payload.agent_id)

    async def _on_message(self, event: MessageCreated) -> None:
        p = event.payload
        # Waking a snoozed or pending conversation changes an agent's load: like routing, that happens under the
        # account lock. Any other message touches only its conversation's timers, and its row lock is enough,
        # so one account's messages are not serialized behind its routing decisions.
        wake_possible = p.direction == "inbound" and p.conversation_status in (None, "snoozed", "pending")
        outcome = await self._message_effects(event, account_locked=wake_possible)
        if outcome is None:  # snoozed since it was ingested: again, under the account lock
            outcome = await self._message_effects(event, account_locked=True)
        events, route = outcome
        await publish_staged(self.res.sessionmaker, self.res.bus, events)
        if route:
            # Also covers a conversation whose "created" event was never published (crash in ingest).
            await route_conversation(self.res, event.tenant_id, event.conversation_id)

    async def _message_effects(self, event: MessageCreated, *, account_locked: bool) -> tuple[list[Event], bool] | None:
        """Applies a message to its conversation (lifecycle.message); returns (events staged, route it?), or
        None without changing anything when the conversation must be woken and the account lock is not held."""
        p = event.payload
        async with transaction(self.res.sessionmaker) as session:
            if account_locked:
                await routing.lock_account(session, event.tenant_id)
            row = (
                await session.execute(
                    select(Conversation, Inbox)
                    .outerjoin(Inbox, Inbox.id == Conversation.inbox_id)
                    .where(Conversation.id == event.conversation_id, Conversation.account_id == event.tenant_id)
                    .with_for_update(of=Conversation)
                )
            ).first()
            if row is None:
                return [], False
            conversation, inbox = row
            if p.direction == "inbound" and conversation.status in ("snoozed", "pending") and not account_locked:
                return None
            outcome = lifecycle.message(
                routing.state_of_row(conversation, None),
                direction=p.direction,
                sender_type=p.sender_type,
                sender_id=p.sender_id,
                message_id=p.message_id,
                sent_at=_aware(p.created_at),
                now=_aware(p.created_at),
                auto_resolve_seconds=float(routing.inbox_routing(inbox).get("auto_resolve_seconds") or 0),
            )
            events = await routing.apply_outcome(session, conversation, outcome)
            add_events(session, events)
        return events, outcome.route or (
            p.direction == "inbound" and conversation.status == "open" and conversation.assignee_id is None
        )

    async def _apply_handoff(self, event: ConversationStatusChanged) -> None:
        """Bot handoff parameters become the conversation's routing requirements."""
        async with transaction(self.res.sessionmaker) as session:
            await routing.lock_account(session, event.tenant_id)
            conversation = await session.scalar(
                select(Conversation).where(
                    Conversation.id == event.conversation_id, Conversation.account_id == event.tenant_id
                )
            )
            if conversation is None:
                return
            outcome = lifecycle.handoff(routing.state_of_row(conversation, None), event.payload.handoff or {})
            await routing.apply_outcome(session, conversation, outcome)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
