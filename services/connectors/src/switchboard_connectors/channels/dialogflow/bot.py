"""The bot worker (consumer group ``connectors-bot``): customer messages of conversations with status "bot"
go to Dialogflow ``detectIntent``; the bot's replies are published as outbound ``message.created`` with
sender_type "bot" (delivered on the customer's channel by the outbound dispatcher, stored by the timeline).

Handoff to humans (status "open" + ``conversation.status_changed`` with ``handoff`` routing hints) when a
handoff intent matches, the response asks for a live agent (CX ``liveAgentHandoff`` or the configured
payload key), ``low_confidence_turns`` turns in a row fall under ``confidence_threshold`` (or are fallback
intents, when a threshold is set), or the bot fails (revoked credentials, 5xx, timeout).
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import select, update
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.conversations.ingest import MESSAGE_ID_NAMESPACE
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import (
    ConversationStatusChanged,
    ConversationStatusPayload,
    Event,
    MessageCreated,
    MessageCreatedPayload,
    utcnow,
)
from switchboard_common.domain.inboxes.bot_config import BotSettings, decrypt_credentials
from switchboard_common.domain.inboxes.models import InboxBot
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.dialogflow.client import BotFailure, BotTurn, DialogflowClient, interpret

log = structlog.get_logger(__name__)
LOW_CONFIDENCE_TTL_SECONDS = 24 * 3600


async def hand_off(
    res: Resources, tenant_id: uuid.UUID, conversation_id: uuid.UUID, reason: str, params: dict[str, Any]
) -> bool:
    """Bot -> humans, once: status "bot" -> "open", then ``conversation.status_changed`` for the router."""
    async with tenant_session(res.sessionmaker, tenant_id, begin=True) as session:
        inbox_id = await session.scalar(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.status == "bot")
            .values(status="open", updated_at=utcnow())
            .returning(Conversation.inbox_id)
        )
    if inbox_id is None:
        return False  # already handed off (or resolved): nothing to do twice
    handoff = {**params, "reason": reason}
    await res.bus.publish(
        ConversationStatusChanged(
            event_id=uuid.uuid5(MESSAGE_ID_NAMESPACE, f"bot-handoff:{conversation_id}"),
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            payload=ConversationStatusPayload(inbox_id=inbox_id, status="open", handoff=handoff),
        )
    )
    log.info("bot_handoff", conversation_id=str(conversation_id), reason=reason)
    return True


def bot_reply_event(trigger: MessageCreated, index: int, text: str) -> MessageCreated:
    p = trigger.payload
    # Deterministic: a redelivered customer message yields the same replies, which consumers recognise.
    message_id = uuid.uuid5(MESSAGE_ID_NAMESPACE, f"bot-reply:{p.message_id}:{index}")
    return MessageCreated(
        event_id=uuid.uuid5(MESSAGE_ID_NAMESPACE, f"message.created:{message_id}"),
        tenant_id=trigger.tenant_id,
        conversation_id=trigger.conversation_id,
        payload=MessageCreatedPayload(
            message_id=message_id,
            inbox_id=p.inbox_id,
            contact_id=p.contact_id,
            channel=p.channel,
            direction="outbound",
            sender_type="bot",
            text=text,
            created_at=utcnow(),
        ),
    )


# Customer messages only, and of those the ones of conversations with the bot (or of unknown status): the
# messages of conversations already with humans, nearly all of them, are skipped from headers, undecoded.
BOT_ACCEPTS = EventFilter(
    types=frozenset({"message.created"}), directions=frozenset({"inbound"}), statuses=frozenset({"bot"})
)


class BotWorker:
    def __init__(self, resources: Resources, client: DialogflowClient) -> None:
        self.res = resources
        self.client = client

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-bot",
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=BOT_ACCEPTS,
        )

    def _low_key(self, conversation_id: uuid.UUID) -> str:
        return self.res.keys.bot_low_confidence(conversation_id)

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if not isinstance(event, MessageCreated) or event.payload.direction != "inbound":
            return
        if event.payload.conversation_status not in (None, "bot"):
            return  # with humans already (a conversation never goes back to the bot): no read needed
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            row = (
                await session.execute(
                    select(Conversation.status, InboxBot)
                    .outerjoin(InboxBot, InboxBot.inbox_id == Conversation.inbox_id)
                    .where(Conversation.id == event.conversation_id)
                )
            ).first()
        if row is None or row[0] != "bot":
            return
        bot: InboxBot | None = row[1]
        if bot is None or not bot.enabled or bot.broken_reason:
            await hand_off(self.res, event.tenant_id, event.conversation_id, "bot_unavailable", {})
            return
        settings = BotSettings.model_validate(bot.settings)
        text = event.payload.text or ""
        if not text.strip():
            return  # an attachment alone: nothing for the bot to read; the next text message continues
        try:
            credentials = decrypt_credentials(self.res.keyring, bot.inbox_id, bot.secrets_encrypted)
            response = await self.client.detect_intent(
                bot.inbox_id,
                credentials,
                project_id=settings.project_id,
                session_id=str(event.conversation_id),
                text=text,
                language_code=settings.language_code,
            )
        except BotFailure as exc:
            if exc.permanent:
                await self._mark_broken(bot.account_id, bot.inbox_id, exc.reason)
            log.warning("bot_failed", conversation_id=str(event.conversation_id), reason=exc.reason)
            await hand_off(self.res, event.tenant_id, event.conversation_id, f"bot_failed:{exc.reason}", {})
            return
        turn = interpret(response, handoff_intents=settings.handoff_intents, payload_key=settings.handoff_payload_key)
        replies = [bot_reply_event(event, i, reply) for i, reply in enumerate(turn.replies)]
        if replies:
            await self.res.bus.publish_many(replies)
        reason = "handoff_requested" if turn.handoff else await self._low_confidence(event, settings, turn)
        if reason is not None:
            params = {**settings.handoff_routing, **turn.handoff_params}
            params.setdefault("language", settings.language_code.split("-")[0].lower())
            if turn.intent:
                params.setdefault("intent", turn.intent)
            await hand_off(self.res, event.tenant_id, event.conversation_id, reason, params)

    async def _low_confidence(self, event: MessageCreated, settings: BotSettings, turn: BotTurn) -> str | None:
        if settings.confidence_threshold <= 0:
            return None
        low = turn.fallback or turn.confidence is None or turn.confidence < settings.confidence_threshold
        key = self._low_key(event.conversation_id)
        if not low:
            await self.res.redis.delete(key)
            return None
        count = await self.res.redis.incr(key)
        await self.res.redis.expire(key, LOW_CONFIDENCE_TTL_SECONDS)
        return "low_confidence" if count >= settings.low_confidence_turns else None

    async def _mark_broken(self, account_id: uuid.UUID, inbox_id: uuid.UUID, reason: str) -> None:
        async with tenant_session(self.res.sessionmaker, account_id, begin=True) as session:
            await session.execute(
                update(InboxBot).where(InboxBot.inbox_id == inbox_id).values(broken_reason=reason[:60])
            )
