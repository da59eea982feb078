"""Resolves what the webhooks accepted: channel identity -> contact -> open conversation, then publishes
``conversation.created`` / ``message.created`` keyed by conversation. Idempotent: message ids are derived
from the platform's ids, so a redelivered inbound event republishes the same events."""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import ConsumerRecord
from sqlalchemy import select, text
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.conversations.ingest import (
    MESSAGE_ID_NAMESPACE,
    OpenConversation,
    inbound_message_events,
    message_id_for,
    open_conversation,
    resolve_contact,
)
from switchboard_common.domain.conversations.models import Message
from switchboard_common.domain.encryption.shredding import ERASED
from switchboard_common.domain.events import (
    Event,
    InboundCsatReceived,
    InboundMessagePayload,
    InboundMessageReceived,
    MessageDeleted,
    MessageDeletedPayload,
    MessageUpdated,
    MessageUpdatedPayload,
)
from switchboard_common.infra.bus import INBOUND_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.csat import record_inbound_answer
from switchboard_connectors.ingress import InboxDirectory, InboxRecord

EDIT_LOOKUP_ATTEMPTS = 10


def _about_an_erased_person(event: InboundMessageReceived) -> bool:
    """The customer's id reads back erased: the record was published while (or before) their erasure ran. There
    is nobody to route to, and a contact made from it would hold what reached us after the person was erased."""
    return event.payload.external_contact_id == ERASED


# For a poll's messages at once: the contact of each channel identity and its unresolved conversation in the
# inbox, where both exist (``ord`` is the message's place in the poll).
KNOWN_CONVERSATIONS = text(
    """
    SELECT r.ord, ci.contact_id, c.id, c.status
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
         AS r(ord int, account_id uuid, inbox_id uuid, channel varchar, external_id varchar)
    JOIN contact_identities ci
      ON ci.account_id = r.account_id AND ci.channel = r.channel AND ci.external_id = r.external_id
    JOIN LATERAL (
        SELECT id, status FROM conversations
        WHERE account_id = r.account_id AND inbox_id = r.inbox_id AND contact_id = ci.contact_id
          AND status <> 'resolved' LIMIT 1
    ) AS c ON true
    """
)


class IngestWorker:
    def __init__(self, resources: Resources, directory: InboxDirectory) -> None:
        self.res = resources
        self.directory = directory

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-ingest",
            topics=[INBOUND_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=frozenset({"inbound.message_received", "inbound.csat_received"})),
            batch_handler=self.handle_batch,
            batch_types=frozenset({"inbound.message_received"}),
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if isinstance(event, InboundMessageReceived):
            await self.ingest_message(event)
        elif isinstance(event, InboundCsatReceived):
            await record_inbound_answer(self.res, event)

    async def handle_batch(self, batch: list[tuple[Event, ConsumerRecord]]) -> None:
        """A poll's messages: one statement finds the contacts and open conversations that already exist
        (most messages continue a conversation), one publish carries every resulting event. The rest (first
        messages, edits) take the one-by-one path, in order."""
        items: list[tuple[InboundMessageReceived, InboxRecord]] = []
        for event, _record in batch:
            if not isinstance(event, InboundMessageReceived) or _about_an_erased_person(event):
                continue
            inbox = await self.directory.by_id(event.payload.inbox_id, event.payload.channel)
            if inbox is not None:
                items.append((event, inbox))
        known = await self._known(items)
        events: list[Event] = []
        for n, (event, inbox) in enumerate(items):
            p = event.payload
            hit = known.get(n)
            if p.kind != "message" or hit is None:
                if events:  # keep the order: what came before is published first
                    await self.res.bus.publish_many(events)
                    events = []
                await self.ingest_message(event)
                continue
            contact_id, conversation = hit
            events += self._events(event, inbox, contact_id, conversation)
        await self.res.bus.publish_many(events)

    async def _known(
        self, items: list[tuple[InboundMessageReceived, InboxRecord]]
    ) -> dict[int, tuple[uuid.UUID, OpenConversation]]:
        rows = [
            {
                "ord": n,
                "account_id": str(inbox.account_id),
                "inbox_id": str(inbox.id),
                "channel": e.payload.channel,
                "external_id": e.payload.external_contact_id,
            }
            for n, (e, inbox) in enumerate(items)
            if e.payload.kind == "message"
        ]
        if not rows:
            return {}
        async with self.res.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await autocommit.execute(KNOWN_CONVERSATIONS, {"rows": json.dumps(rows)})
            return {row.ord: (row.contact_id, OpenConversation(row.id, False, row.status)) for row in result}

    def _events(
        self, event: InboundMessageReceived, inbox: InboxRecord, contact_id: uuid.UUID, conversation: OpenConversation
    ) -> list[Event]:
        p = event.payload
        return inbound_message_events(
            account_id=inbox.account_id,
            inbox_id=inbox.id,
            contact_id=contact_id,
            conversation=conversation,
            channel=p.channel,
            message_id=message_id_for(inbox.account_id, f"{p.channel}:{inbox.id}", p.external_message_id),
            text_body=p.text,
            attachments=p.attachments,
            external_id=p.external_message_id,
            created_at=p.sent_at,
        )

    async def ingest_message(self, event: InboundMessageReceived) -> None:
        p = event.payload
        if _about_an_erased_person(event):
            return
        inbox = await self.directory.by_id(p.inbox_id, p.channel)
        if inbox is None:
            return  # the inbox was deleted since the webhook was accepted
        message_id = message_id_for(inbox.account_id, f"{p.channel}:{inbox.id}", p.external_message_id)
        if p.kind != "message":
            await self._edit(inbox.account_id, message_id, p, deleted=p.kind == "delete")
            return
        async with tenant_session(self.res.sessionmaker, inbox.account_id, begin=True) as session:
            contact_id = await resolve_contact(
                session,
                account_id=inbox.account_id,
                channel=p.channel,
                external_id=p.external_contact_id,
                name=p.contact_name,
                email=p.contact_email,
            )
            conversation = await open_conversation(
                session,
                account_id=inbox.account_id,
                inbox_id=inbox.id,
                contact_id=contact_id,
                channel=p.channel,
                pseudonyms=self.res.pseudonyms,
                text_body=p.text,
            )
        await self.res.bus.publish_many(self._events(event, inbox, contact_id, conversation))

    async def _edit(
        self, account_id: uuid.UUID, message_id: uuid.UUID, p: InboundMessagePayload, *, deleted: bool
    ) -> None:
        conversation_id = None
        # The gateway stores the original from the conversations topic: an edit right after it may be early.
        for attempt in range(EDIT_LOOKUP_ATTEMPTS):
            async with tenant_session(self.res.sessionmaker, account_id) as session:
                conversation_id = await session.scalar(select(Message.conversation_id).where(Message.id == message_id))
            if conversation_id is not None or attempt == EDIT_LOOKUP_ATTEMPTS - 1:
                break
            await asyncio.sleep(0.3)
        if conversation_id is None:
            return  # never stored (or erased): nothing to change
        event_id = uuid.uuid5(MESSAGE_ID_NAMESPACE, f"{p.kind}:{message_id}:{p.external_message_id}:{p.text}")
        common = {"event_id": event_id, "tenant_id": account_id, "conversation_id": conversation_id}
        if deleted:
            await self.res.bus.publish(
                MessageDeleted(
                    **common, payload=MessageDeletedPayload(message_id=message_id, external_id=p.external_message_id)
                )
            )
        else:
            await self.res.bus.publish(
                MessageUpdated(
                    **common,
                    payload=MessageUpdatedPayload(
                        message_id=message_id, text=p.text, external_id=p.external_message_id
                    ),
                )
            )
