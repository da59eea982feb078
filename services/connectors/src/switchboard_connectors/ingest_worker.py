"""Resolves what the webhooks accepted: channel identity -> contact -> open conversation, then publishes
``conversation.created`` / ``message.created`` keyed by conversation. Idempotent: message ids are derived
from the platform's ids, so a redelivered inbound event republishes the same events."""

from __future__ import annotations

from aiokafka import ConsumerRecord
from switchboard_common.bus import INBOUND_TOPIC, EventConsumer
from switchboard_common.db import transaction
from switchboard_common.events import Event, InboundMessageReceived
from switchboard_common.ingest import inbound_message_events, message_id_for, open_conversation, resolve_contact
from switchboard_common.runtime import Resources

from switchboard_connectors.webhooks import InboxDirectory


class IngestWorker:
    def __init__(self, resources: Resources, directory: InboxDirectory) -> None:
        self.res = resources
        self.directory = directory

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings, group="connectors-ingest", topics=[INBOUND_TOPIC], handler=self.handle, bus=self.res.bus
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if isinstance(event, InboundMessageReceived):
            await self.ingest_message(event)

    async def ingest_message(self, event: InboundMessageReceived) -> None:
        p = event.payload
        inbox = await self.directory.by_id(p.inbox_id, p.channel)
        if inbox is None:
            return  # the inbox was deleted since the webhook was accepted
        async with transaction(self.res.sessionmaker) as session:
            contact_id = await resolve_contact(
                session,
                account_id=inbox.account_id,
                channel=p.channel,
                external_id=p.external_contact_id,
                name=p.contact_name,
                email=p.contact_email,
            )
            conversation_id, created = await open_conversation(
                session, account_id=inbox.account_id, inbox_id=inbox.id, contact_id=contact_id, channel=p.channel
            )
        await self.res.bus.publish_many(
            inbound_message_events(
                account_id=inbox.account_id,
                inbox_id=inbox.id,
                contact_id=contact_id,
                conversation_id=conversation_id,
                conversation_created=created,
                channel=p.channel,
                message_id=message_id_for(inbox.account_id, f"{p.channel}:{inbox.id}", p.external_message_id),
                text_body=p.text,
                attachments=p.attachments,
                external_id=p.external_message_id,
                created_at=p.sent_at,
            )
        )
