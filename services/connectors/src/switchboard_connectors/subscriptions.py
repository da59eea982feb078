"""Account webhooks: turns conversation events into signed deliveries for matching subscriptions.

Payloads leave out contacts who opted out of sharing, and the content of pass-through inboxes.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationCreated,
    ConversationCsatAnswered,
    ConversationQueued,
    ConversationSlaBreached,
    ConversationStatusChanged,
    Event,
    MessageCreated,
    NoteCreated,
)
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.privacy.consent import is_pass_through, sharing_allowed
from switchboard_common.domain.subscriptions.events import SUBSCRIBABLE_EVENTS
from switchboard_common.domain.subscriptions.models import WebhookDelivery, WebhookSubscription
from switchboard_common.domain.subscriptions.revisions import current_revision, revision_key
from switchboard_common.infra.bus import ACCOUNT_HEADER, CONVERSATIONS_TOPIC, EventConsumer, EventFilter, header
from switchboard_common.infra.runtime import Resources

# The internal events behind them (``conversation.resolved`` is a status change): the consumer skips the rest
# from their headers.
SUBSCRIBED_EVENT_TYPES = frozenset(
    {
        "conversation.created",
        "message.created",
        "conversation.assigned",
        "conversation.queued",
        "conversation.status_changed",
        "note.created",
        "conversation.sla_breached",
        "conversation.csat_answered",
    }
)
# A backstop only: changes take effect at once through the account's revision
# (switchboard_common.domain.subscriptions.revisions).
CACHE_SECONDS = 60.0


def public_name(event: Event) -> str | None:
    """The name subscribers use for an internal event, or None if it is not offered."""
    if isinstance(event, ConversationStatusChanged):
        return "conversation.resolved" if event.payload.status == "resolved" else None
    if isinstance(
        event,
        MessageCreated
        | ConversationCreated
        | ConversationAssigned
        | ConversationQueued
        | ConversationSlaBreached
        | ConversationCsatAnswered
        | NoteCreated,
    ):
        return event.type if event.type in SUBSCRIBABLE_EVENTS else None
    return None


class SubscriptionFanout:
    def __init__(self, resources: Resources) -> None:
        self.res = resources
        # tenant -> (expiry, revision it was read at, [(subscription id, events)])
        self._cache: dict[uuid.UUID, tuple[float, str | None, list[tuple[uuid.UUID, list[str]]]]] = {}

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-subscriptions",
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=SUBSCRIBED_EVENT_TYPES),
            # A poll's events go together: one read of their accounts' subscription revisions, not one each.
            batch_handler=self.handle_batch,
            batch_types=SUBSCRIBED_EVENT_TYPES,
            # Most accounts subscribe to nothing: their events are skipped undecoded (the account rides as a
            # record header; its subscriptions are cached against its revision).
            gate=self.subscribed,
        )

    async def subscribed(self, records: list[ConsumerRecord]) -> list[bool]:
        """Whether each record's account has an enabled subscription; a record without the account header
        passes (its event decides)."""
        accounts: dict[str, uuid.UUID] = {}
        for record in records:
            account = header(record, ACCOUNT_HEADER)
            if account is not None and account not in accounts:
                try:
                    accounts[account] = uuid.UUID(account)
                except ValueError:
                    continue
        values = (
            await self.res.redis.mget([revision_key(self.res.keys, a) for a in accounts.values()]) if accounts else []
        )
        subscribed = {
            account
            for (account, tenant), value in zip(accounts.items(), values, strict=True)
            if await self._subscriptions(tenant, None if value is None else str(value))
        }
        return [
            account in subscribed if account in accounts else True
            for account in (header(r, ACCOUNT_HEADER) for r in records)
        ]

    async def _subscriptions(self, tenant_id: uuid.UUID, revision: str | None) -> list[tuple[uuid.UUID, list[str]]]:
        hit = self._cache.get(tenant_id)
        if hit and hit[0] > time.monotonic() and hit[1] == revision:
            return hit[2]
        async with tenant_session(self.res.sessionmaker, tenant_id) as session:
            rows = (
                await session.execute(
                    select(WebhookSubscription.id, WebhookSubscription.events).where(
                        WebhookSubscription.enabled.is_(True)
                    )
                )
            ).all()
        value = [(row.id, list(row.events)) for row in rows]
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[tenant_id] = (time.monotonic() + CACHE_SECONDS, revision, value)
        return value

    async def handle_batch(self, batch: list[tuple[Event, ConsumerRecord]]) -> None:
        """The events of a poll, in order, with every account's subscription revision read in one MGET."""
        tenants = list(dict.fromkeys(event.tenant_id for event, _record in batch))
        values = await self.res.redis.mget([revision_key(self.res.keys, t) for t in tenants])
        revisions = {t: None if v is None else str(v) for t, v in zip(tenants, values, strict=True)}
        for event, _record in batch:
            await self._fan_out(event, revisions[event.tenant_id])

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if public_name(event) is not None:
            await self._fan_out(event, await current_revision(self.res.redis, self.res.keys, event.tenant_id))

    async def _fan_out(self, event: Event, revision: str | None) -> None:
        """One pending delivery per enabled subscription of the event's account that asked for its type."""
        name = public_name(event)
        if name is None:
            return
        targets = [sid for sid, events in await self._subscriptions(event.tenant_id, revision) if name in events]
        if not targets:
            return
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            body = json.dumps(await self._payload(session, event, name), separators=(",", ":"), default=str).encode()
            now = datetime.now(UTC)
            for target in targets:
                await session.execute(
                    insert(WebhookDelivery)
                    .values(
                        account_id=event.tenant_id,
                        target_kind="subscription",
                        target_id=target,
                        conversation_id=event.conversation_id,
                        message_id=None,
                        event_id=event.event_id,
                        event_type=name,
                        body=body,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["target_id", "event_id"])
                )

    async def _payload(self, session: Any, event: Event, name: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        inbox_id = getattr(event.payload, "inbox_id", None)
        inbox = await session.get(Inbox, inbox_id) if inbox_id else None
        pass_through = is_pass_through(inbox)
        if isinstance(event, ConversationCreated | MessageCreated):
            shareable = await sharing_allowed(session, event.tenant_id, event.payload.contact_id)
            contact = await session.get(Contact, event.payload.contact_id) if shareable else None
            data["contact"] = (
                {"id": str(contact.id), "name": contact.name, "email": contact.email} if contact is not None else None
            )
            data["inbox_id"] = str(event.payload.inbox_id)
            data["channel"] = event.payload.channel
            if isinstance(event, MessageCreated):
                message = event.payload
                withheld = pass_through or not shareable
                data["message"] = {
                    "id": str(message.message_id),
                    "direction": message.direction,
                    "sender_type": message.sender_type,
                    "text": None if withheld else message.text,
                    "content_withheld": withheld,
                    "created_at": message.created_at.isoformat(),
                }
        elif isinstance(event, NoteCreated):
            note = event.payload
            withheld = pass_through or not await sharing_allowed(session, event.tenant_id, note.contact_id)
            data = {
                "inbox_id": str(note.inbox_id),
                "channel": note.channel,
                "note": {
                    "id": str(note.message_id),
                    "author_id": str(note.author_id),
                    "text": None if withheld else note.text,
                    "content_withheld": withheld,
                    "mentions": [str(m) for m in note.mentions],
                    "created_at": note.created_at.isoformat(),
                },
            }
        elif isinstance(event, ConversationAssigned):
            data = {
                "agent_id": str(event.payload.agent_id),
                "inbox_id": str(event.payload.inbox_id),
                "previous_agent_id": str(event.payload.previous_agent_id) if event.payload.previous_agent_id else None,
            }
        elif isinstance(event, ConversationQueued | ConversationStatusChanged):
            data = {"inbox_id": str(event.payload.inbox_id)}
        elif isinstance(event, ConversationSlaBreached):
            breach = event.payload
            data = {
                "inbox_id": str(breach.inbox_id),
                "policy_id": str(breach.policy_id),
                "target": breach.target,
                "due_at": breach.due_at.isoformat(),
                "agent_id": str(breach.agent_id) if breach.agent_id else None,
                "team_id": str(breach.team_id) if breach.team_id else None,
            }
        elif isinstance(event, ConversationCsatAnswered):
            contact = await session.get(Contact, event.payload.contact_id)
            shareable = contact is not None and not contact.sharing_opt_out and not pass_through
            data = {
                "inbox_id": str(event.payload.inbox_id),
                "channel": event.payload.channel,
                "rating": event.payload.rating,
                "comment": event.payload.comment if shareable else None,
                "answered_at": event.payload.answered_at.isoformat(),
                "agent_id": str(event.payload.agent_id) if event.payload.agent_id else None,
            }
        return {
            "event": name,
            "event_id": str(event.event_id),
            "occurred_at": event.occurred_at.isoformat(),
            "account_id": str(event.tenant_id),
            "conversation_id": str(event.conversation_id),
            "data": data,
        }
