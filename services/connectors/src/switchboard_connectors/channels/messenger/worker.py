"""Messenger work after the ack (consumer group ``connectors-messenger``): receipts -> delivery status,
attachment downloads into the attachment store, handover notifications."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import or_, select, update
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.contacts.models import ContactIdentity
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.events import (
    Event,
    InboundHandoverReceived,
    InboundReceiptReceived,
    MessageCreated,
)
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, INBOUND_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.db import affected_rows
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.messenger.client import GraphApi, GraphError
from switchboard_connectors.channels.messenger.handover import ThreadControl, uses_handover
from switchboard_connectors.channels.messenger.webhook import (
    CHANNEL,
)
from switchboard_connectors.ingress import InboxDirectory
from switchboard_connectors.outbound import DeliveryResult, publish_delivery_update

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# The timeline stores a message shortly after it is published; an attachment download waits this long for it.
STORED_MESSAGE_PATIENCE_SECONDS = 15.0

log = structlog.get_logger(__name__)


class MessengerWorker:
    """After the ack: receipts -> delivery status, attachment downloads, handover notifications."""

    def __init__(self, resources: Resources, api: GraphApi, directory: InboxDirectory, threads: ThreadControl) -> None:
        self.res = resources
        self.api = api
        self.directory = directory
        self.threads = threads
        self.store = resources.attachments

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-messenger",
            background=True,
            topics=[INBOUND_TOPIC, CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(
                types=frozenset({"inbound.receipt_received", "inbound.handover_received", "message.created"}),
                channels=frozenset({CHANNEL}),
            ),
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if isinstance(event, InboundReceiptReceived) and event.payload.channel == CHANNEL:
            await self.apply_receipt(event)
        elif isinstance(event, InboundHandoverReceived) and event.payload.channel == CHANNEL:
            inbox = await self.directory.by_id(event.payload.inbox_id, CHANNEL)
            if inbox is not None and uses_handover(inbox.settings):
                await self.threads.on_notification(event, inbox)
        elif (
            isinstance(event, MessageCreated)
            and event.payload.channel == CHANNEL
            and event.payload.direction == "inbound"
            and any(a.url for a in event.payload.attachments)
        ):
            await self.fetch_attachments(event)

    async def apply_receipt(self, event: InboundReceiptReceived) -> None:
        """Marks the page's outbound messages delivered/read: those named by mid, and all up to the watermark."""
        p = event.payload
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            contact_id = await session.scalar(
                select(ContactIdentity.contact_id).where(
                    ContactIdentity.channel == CHANNEL,
                    ContactIdentity.external_id == p.external_contact_id,
                )
            )
            if contact_id is None:
                return
            query = (
                select(Message.id, Message.conversation_id, Message.external_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(
                    Conversation.inbox_id == p.inbox_id,
                    Conversation.contact_id == contact_id,
                    Message.direction == "outbound",
                    Message.external_id.is_not(None),
                )
            )
            pending = ("sent",) if p.status == "delivered" else ("sent", "delivered")
            query = query.where(Message.delivery_status.in_(pending))
            by_mid = Message.external_id.in_(p.external_message_ids) if p.external_message_ids else None
            by_time = Message.created_at <= p.watermark if p.watermark is not None else None
            conditions = [c for c in (by_mid, by_time) if c is not None]
            if not conditions:
                return
            rows = (await session.execute(query.where(or_(*conditions)).limit(500))).all()
        for message_id, conversation_id, external_id in rows:
            await publish_delivery_update(
                self.res,
                event.tenant_id,
                conversation_id,
                message_id,
                DeliveryResult(status=p.status, external_id=external_id),
            )

    async def fetch_attachments(self, event: MessageCreated) -> None:
        """Attachment URLs expire: keep a copy in the attachment store and note its key on the stored message."""
        p = event.payload
        stored: list[dict[str, Any]] = []
        for attachment in p.attachments:
            entry = attachment.model_dump(mode="json")
            if attachment.url:
                try:
                    data = await self.api.download(attachment.url, MAX_ATTACHMENT_BYTES)
                except GraphError as exc:
                    entry["fetch_error"] = exc.reason
                else:
                    entry["object"] = await self.store.put(event.tenant_id, p.contact_id, data)
                    entry["size"] = len(data)
            stored.append(entry)
        deadline = time.monotonic() + STORED_MESSAGE_PATIENCE_SECONDS
        while True:
            async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
                result = await session.execute(
                    update(Message).where(Message.id == p.message_id).values(attachments=stored)
                )
            if affected_rows(result) or time.monotonic() > deadline:
                if not affected_rows(result):
                    log.warning("messenger_attachment_message_missing", message_id=str(p.message_id))
                return
            await asyncio.sleep(0.3)
