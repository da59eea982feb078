"""Agent and bot replies to Messenger through the Send API: the messaging window, chunking, attachments,
and the thread control the handover protocol needs, in conversation order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import func, select
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.contacts.models import ContactIdentity
from switchboard_common.domain.conversations.models import Message
from switchboard_common.domain.events import (
    Attachment,
    ConversationAssigned,
    ConversationStatusChanged,
    Event,
    MessageCreated,
)
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.messenger.client import GraphApi, GraphError
from switchboard_connectors.channels.messenger.handover import CLAIM_REASONS, ThreadControl, uses_handover
from switchboard_connectors.channels.messenger.webhook import (
    CHANNEL,
    LAST_INBOUND_TTL_SECONDS,
    last_inbound_key,
)
from switchboard_connectors.ingress import InboxDirectory
from switchboard_connectors.outbound import ChannelOutbound, DeliveryResult

MAX_TEXT = 2000
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


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

    async def _last_inbound(
        self, account_id: uuid.UUID, inbox_id: uuid.UUID, psid: str, conversation_id: uuid.UUID
    ) -> datetime | None:
        cached = await self.res.redis.get(last_inbound_key(self.res, inbox_id, psid))
        if cached is not None:
            return datetime.fromtimestamp(float(cached), UTC)
        # Redis lost it: the stored history knows.
        async with tenant_session(self.res.sessionmaker, account_id) as session:
            return await session.scalar(
                select(func.max(Message.created_at)).where(
                    Message.conversation_id == conversation_id, Message.direction == "inbound"
                )
            )

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        p = event.payload
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
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
        last = await self._last_inbound(event.tenant_id, inbox.id, psid, event.conversation_id)
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
            sent_key = self.res.keys.messenger_sent(p.message_id)  # a hash: chunk index -> Graph's mid
            mid = await self.res.redis.hget(sent_key, str(index))
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
                async with self.res.redis.pipeline(transaction=True) as pipe:
                    pipe.hset(sent_key, str(index), mid)
                    pipe.expire(sent_key, LAST_INBOUND_TTL_SECONDS)
                    await pipe.execute()
            first_mid = first_mid or (mid.decode() if isinstance(mid, bytes) else mid) or None
        # The external id maps later delivery/read receipts (by mid or watermark) back to this message.
        return DeliveryResult(status="sent", external_id=first_mid)


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
        psid = await self.threads.psid_of(inbox.account_id, conversation_id, str(inbox.settings.get("page_id", "")))
        if not token or psid is None:
            return
        if not take:
            target = str(inbox.settings["handover_target_app_id"])
            await self.threads.pass_to(inbox.id, str(token), psid, target, "handoff from bot")
        elif await self.threads.other_owner(inbox.id, psid) is not None:
            await self.threads.take(inbox.id, str(token), psid, "agent_claimed")
