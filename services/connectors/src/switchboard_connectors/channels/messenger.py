"""Facebook Messenger: webhook verification and ingress, Send API replies, receipts, attachments, handover.

Ack path (``POST /webhooks/messenger``): verify ``X-Hub-Signature-256`` over the raw body, normalize every
entry and event of the batch, find each page's inbox, drop already-accepted ``mid``s, publish (acks=all),
then remember the ``mid``s. Slow work happens after, from Kafka (:class:`MessengerWorker`): attachment
downloads, receipts -> ``message.delivery_updated``, and handover notifications. Replies, and the thread
control they need (:mod:`~switchboard_connectors.channels.messenger_handover`), go out in conversation order
from :class:`MessengerOutbound`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, or_, select, update
from switchboard_common import metrics
from switchboard_common.bus import CONVERSATIONS_TOPIC, INBOUND_TOPIC, EventConsumer, EventFilter
from switchboard_common.db import transaction
from switchboard_common.db.models import ContactIdentity, Conversation, Inbox, Message
from switchboard_common.errors import AppError
from switchboard_common.events import (
    Attachment,
    ConversationAssigned,
    ConversationStatusChanged,
    Event,
    InboundHandoverPayload,
    InboundHandoverReceived,
    InboundMessagePayload,
    InboundMessageReceived,
    InboundReceiptPayload,
    InboundReceiptReceived,
    MessageCreated,
)
from switchboard_common.inbox_secrets import decrypt_secrets
from switchboard_common.runtime import Resources

from switchboard_connectors.channels import messenger_events
from switchboard_connectors.channels.messenger_api import GraphApi, GraphError
from switchboard_connectors.channels.messenger_handover import CLAIM_REASONS, ThreadControl, uses_handover
from switchboard_connectors.outbound import ChannelOutbound, DeliveryResult, publish_delivery_update
from switchboard_connectors.webhooks import AckTimer, InboxDirectory, InboxRecord, publish_and_remember, seen

log = structlog.get_logger(__name__)
router = APIRouter(tags=["webhooks"])

CHANNEL = "messenger"
MAX_TEXT = 2000
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
LAST_INBOUND_TTL_SECONDS = 8 * 24 * 3600
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# The timeline stores a message shortly after it is published; an attachment download waits this long for it.
STORED_MESSAGE_PATIENCE_SECONDS = 15.0
HANDOVER_EVENT_NAMESPACE = uuid.UUID("3f8e0b52-7a61-4c1e-9d4a-5b2c6e8f1a07")


def contact_external_id(page_id: str, psid: str) -> str:
    return f"{page_id}:{psid}"


def _last_inbound_key(res: Resources, inbox_id: uuid.UUID, psid: str) -> str:
    return f"{res.keys.ns}:messenger:last_inbound:{inbox_id}:{psid}"


def _sent_chunk_key(res: Resources, message_id: uuid.UUID, index: int) -> str:
    return f"{res.keys.ns}:messenger:sent:{message_id}:{index}"


def _content_type(kind: str) -> str | None:
    return messenger_events.CONTENT_TYPES.get(kind)


def _event_for(inbox: InboxRecord, item: messenger_events.MessengerItem) -> Event:
    external_contact = contact_external_id(item.page_id, item.psid)
    if item.kind == "handover":
        assert item.action is not None and item.mid is not None
        return InboundHandoverReceived(
            # Deterministic: a redelivered notification is the same event.
            event_id=uuid.uuid5(HANDOVER_EVENT_NAMESPACE, f"{inbox.id}:{item.mid}"),
            occurred_at=item.sent_at,
            tenant_id=inbox.account_id,
            payload=InboundHandoverPayload(
                inbox_id=inbox.id,
                channel=CHANNEL,
                external_contact_id=external_contact,
                action=item.action,
                app_id=item.app_id,
                previous_app_id=item.previous_app_id,
            ),
        )
    if item.kind == "message":
        assert item.mid is not None
        return InboundMessageReceived(
            tenant_id=inbox.account_id,
            payload=InboundMessagePayload(
                inbox_id=inbox.id,
                channel=CHANNEL,
                external_contact_id=external_contact,
                external_message_id=item.mid,
                text=item.text,
                attachments=[
                    Attachment(name=a.name, content_type=_content_type(a.kind), url=a.url, external_id=a.kind)
                    for a in item.attachments
                ],
                sent_at=item.sent_at,
            ),
        )
    assert item.kind in ("delivered", "read")
    return InboundReceiptReceived(
        tenant_id=inbox.account_id,
        payload=InboundReceiptPayload(
            inbox_id=inbox.id,
            channel=CHANNEL,
            external_contact_id=external_contact,
            status=item.kind,
            external_message_ids=item.mids,
            watermark=item.watermark,
        ),
    )


@router.get("/webhooks/messenger", summary="Messenger webhook verification", response_model=None)
async def verify_messenger_webhook(
    request: Request,
    mode: str | None = Query(default=None, alias="hub.mode"),
    token: str | None = Query(default=None, alias="hub.verify_token"),
    challenge: str | None = Query(default=None, alias="hub.challenge", max_length=200),
) -> PlainTextResponse:
    expected = request.app.state.settings.messenger_verify_token
    if (
        mode == "subscribe"
        and expected
        and token is not None
        and hmac.compare_digest(token.encode(), expected.encode())
        and challenge is not None
    ):
        return PlainTextResponse(challenge)
    raise AppError(403, "verification_failed", "hub.mode or hub.verify_token does not match")


@router.post("/webhooks/messenger", summary="Messenger webhook events")
async def messenger_webhook(request: Request) -> JSONResponse:
    timer = AckTimer(CHANNEL)
    res: Resources = request.app.state.resources
    secret = request.app.state.settings.messenger_app_secret
    body = await request.body()
    if not secret:
        timer.done("not_configured")
        raise AppError(503, "messenger_not_configured", "MESSENGER_APP_SECRET is not set")
    if not messenger_events.verify_signature(secret, body, request.headers.get("X-Hub-Signature-256")):
        metrics.SIGNATURE_FAILURES.labels(CHANNEL).inc()
        log.warning("webhook_signature_rejected", channel=CHANNEL, size=len(body))
        timer.done("invalid_signature")
        raise AppError(401, "invalid_signature", "X-Hub-Signature-256 does not match the body")
    try:
        parsed = json.loads(body)
    except ValueError:
        timer.done("malformed")
        raise AppError(400, "malformed_json", "body is not valid JSON") from None
    if not messenger_events.is_page_body(parsed):
        timer.done("malformed")
        raise AppError(400, "malformed_payload", 'body is not a Messenger "page" webhook')
    directory: InboxDirectory = request.app.state.inboxes
    events: list[Event] = []
    remember: dict[str, list[str]] = {}
    last_inbound: dict[str, float] = {}
    for item in messenger_events.normalize(parsed):
        inbox = await directory.messenger_page(item.page_id)
        if inbox is None:
            continue  # a page of this app that no inbox serves: acknowledged, not stored
        if (item.standby or item.kind == "handover") and not uses_handover(inbox.settings):
            continue  # another app's thread on a page that does not share threads with us: not ours
        scope = f"{CHANNEL}:{inbox.id}"
        if item.kind in ("message", "handover"):
            assert item.mid is not None
            if item.mid in remember.get(scope, []) or await seen(res, scope, [item.mid]):
                continue
            remember.setdefault(scope, []).append(item.mid)
        if item.kind == "message":
            key = _last_inbound_key(res, inbox.id, item.psid)
            last_inbound[key] = max(last_inbound.get(key, 0.0), item.sent_at.timestamp())
        events.append(_event_for(inbox, item))
    try:
        if last_inbound:
            # Before publishing: the bot's reply to this message must find the window open.
            async with res.redis.pipeline(transaction=False) as pipe:
                for key, at in last_inbound.items():
                    pipe.set(key, str(at), ex=LAST_INBOUND_TTL_SECONDS)
                await pipe.execute()
        if events:
            await res.bus.publish_many(events)
        for scope, mids in remember.items():
            await publish_and_remember(res, scope, [], mids)
    except Exception as exc:
        timer.done("unavailable")
        raise AppError(503, "unavailable", "not accepted; Messenger will retry") from exc
    timer.done("accepted" if events else "ignored")
    return JSONResponse({"ok": True, "accepted": len(events)})


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most ``limit`` characters, preferring to cut at a line break or a space."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip(" \n") if cut < limit else rest[cut:]
    if rest:
        chunks.append(rest)
    return chunks


def _attachment_message(attachment: Attachment) -> dict[str, Any] | None:
    if not attachment.url:
        return None
    kind = (attachment.content_type or "").split("/", 1)[0]
    kind = kind if kind in {"image", "audio", "video"} else "file"
    return {"attachment": {"type": kind, "payload": {"url": attachment.url, "is_reusable": True}}}


class MessengerSender:
    """Agent and bot replies through the Send API, with the messaging window rules and thread control."""

    def __init__(self, resources: Resources, api: GraphApi, threads: ThreadControl) -> None:
        self.res = resources
        self.api = api
        self.threads = threads

    async def _last_inbound(self, inbox_id: uuid.UUID, psid: str, conversation_id: uuid.UUID) -> datetime | None:
        cached = await self.res.redis.get(_last_inbound_key(self.res, inbox_id, psid))
        if cached is not None:
            return datetime.fromtimestamp(float(cached), UTC)
        async with self.res.sessionmaker() as session:  # Redis lost it: the stored history knows
            return await session.scalar(
                select(func.max(Message.created_at)).where(
                    Message.conversation_id == conversation_id, Message.direction == "inbound"
                )
            )

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        p = event.payload
        async with self.res.sessionmaker() as session:
            inbox = await session.get(Inbox, p.inbox_id)
            identity = await session.scalar(
                select(ContactIdentity.external_id).where(
                    ContactIdentity.contact_id == p.contact_id, ContactIdentity.channel == CHANNEL
                )
            )
        if inbox is None:
            return DeliveryResult(status="failed", reason="inbox_deleted")
        token = decrypt_secrets(self.res.keyring, inbox.id, inbox.secrets_encrypted).get("page_access_token")
        page_id = str((inbox.settings or {}).get("page_id", ""))
        if not token or not identity or not identity.startswith(f"{page_id}:"):
            return DeliveryResult(status="failed", reason="no_messenger_recipient")
        psid = identity.split(":", 1)[1]
        last = await self._last_inbound(inbox.id, psid, event.conversation_id)
        age = datetime.now(UTC) - last if last is not None else None
        if age is not None and age <= STANDARD_WINDOW:
            envelope: dict[str, Any] = {"messaging_type": "RESPONSE"}
        elif age is not None and age <= HUMAN_AGENT_WINDOW and p.sender_type == "agent":
            # Human agents only: the tag is not for automated replies.
            envelope = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        else:
            return DeliveryResult(status="failed", reason="outside_messaging_window")
        messages: list[dict[str, Any]] = [{"text": chunk} for chunk in split_text(p.text or "")]
        messages += [m for m in map(_attachment_message, p.attachments) if m is not None]
        if not messages:
            return DeliveryResult(status="failed", reason="empty_message")
        # Handover protocol: an agent's reply takes the thread back from the app holding it; a bot's reply
        # never takes a thread from humans.
        handover = uses_handover(inbox.settings or {})
        can_take = handover and p.sender_type == "agent"
        if handover and await self.threads.other_owner(inbox.id, psid) is not None:
            if not can_take or not await self.threads.take(inbox.id, token, psid, "agent_reply"):
                return DeliveryResult(status="failed", reason="thread_owned_by_other_app")
            can_take = False
        first_mid: str | None = None
        for index, message in enumerate(messages):
            # A retried reply resumes after the chunks Graph already accepted.
            done_key = _sent_chunk_key(self.res, p.message_id, index)
            mid = await self.res.redis.get(done_key)
            if mid is None:
                body = {"recipient": {"id": psid}, "message": message, **envelope}
                try:
                    try:
                        answer = await self.api.call("me/messages", token, body)
                    except GraphError as exc:
                        # Another app holds the thread and we had not heard of it: take it back once, resend.
                        if exc.reason != "thread_owned_by_other_app" or not can_take:
                            raise
                        can_take = False
                        if not await self.threads.take(inbox.id, token, psid, "agent_reply"):
                            raise
                        answer = await self.api.call("me/messages", token, body)
                except GraphError as exc:
                    return DeliveryResult(status="failed", reason=exc.reason)
                mid = str(answer.get("message_id") or "")
                await self.res.redis.set(done_key, mid, ex=LAST_INBOUND_TTL_SECONDS)
            first_mid = first_mid or (mid.decode() if isinstance(mid, bytes) else mid) or None
        # The external id maps later delivery/read receipts (by mid or watermark) back to this message.
        return DeliveryResult(status="sent", external_id=first_mid)


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
        async with self.res.sessionmaker() as session:
            contact_id = await session.scalar(
                select(ContactIdentity.contact_id).where(
                    ContactIdentity.account_id == event.tenant_id,
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
                    Conversation.account_id == event.tenant_id,
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
            async with transaction(self.res.sessionmaker) as session:
                result = await session.execute(
                    update(Message)
                    .where(Message.id == p.message_id, Message.account_id == event.tenant_id)
                    .values(attachments=stored)
                )
            if result.rowcount or time.monotonic() > deadline:  # type: ignore[attr-defined]
                if not result.rowcount:  # type: ignore[attr-defined]
                    log.warning("messenger_attachment_message_missing", message_id=str(p.message_id))
                return
            await asyncio.sleep(0.3)


class MessengerOutbound(ChannelOutbound):
    """The ``connectors-messenger-outbound`` consumer group: Messenger replies, and the thread control they need.

    Head-of-line blocking: replies of one conversation stay in order on their Kafka partition. Graph rate
    limits are waited out in the handler for at most ``MESSENGER_MAX_WAIT_SECONDS``; past that the handler
    raises a transient error and the bus retries the same event until it is delivered, so a reply is never
    dropped and never overtaken. Having its own consumer group means a throttled page delays only Messenger
    replies on that partition, never web, API or Slack replies.

    Handover moves happen here too, in conversation order: the bot's last reply is sent before the thread is
    passed to humans, and a claim takes the thread back before the agent's first reply.
    """

    event_types = frozenset({"message.created", "conversation.status_changed", "conversation.assigned"})

    def __init__(self, resources: Resources, api: GraphApi, directory: InboxDirectory, threads: ThreadControl) -> None:
        super().__init__(resources, CHANNEL, MessengerSender(resources, api, threads))
        self.directory = directory
        self.threads = threads

    async def handle(self, event: Event, record: ConsumerRecord) -> None:
        if isinstance(event, ConversationStatusChanged):
            if event.payload.handoff is not None and event.payload.status == "open":
                await self._thread_move(event.payload.inbox_id, event.conversation_id, take=False)
        elif isinstance(event, ConversationAssigned):
            if event.payload.reason in CLAIM_REASONS:
                await self._thread_move(event.payload.inbox_id, event.conversation_id, take=True)
        else:
            await super().handle(event, record)

    async def _thread_move(self, inbox_id: uuid.UUID, conversation_id: uuid.UUID | None, *, take: bool) -> None:
        """Bot -> humans: pass the thread to the page's human app. Agent claim: take it back if another app
        holds it. Graph outages raise (transient): the move is retried from Kafka, never lost."""
        inbox = await self.directory.by_id(inbox_id, CHANNEL)
        if inbox is None or conversation_id is None or not uses_handover(inbox.settings):
            return
        token = inbox.secrets.get("page_access_token")
        psid = await self.threads.psid_of(conversation_id, str(inbox.settings.get("page_id", "")))
        if not token or psid is None:
            return
        if not take:
            target = str(inbox.settings["handover_target_app_id"])
            await self.threads.pass_to(inbox.id, str(token), psid, target, "handoff from bot")
        elif await self.threads.other_owner(inbox.id, psid) is not None:
            await self.threads.take(inbox.id, str(token), psid, "agent_claimed")
