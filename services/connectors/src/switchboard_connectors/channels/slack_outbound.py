"""Agent replies to Slack customers (``chat.postMessage``), and why they have their own consumer group.

Retry design: a consumer handles its partitions one record at a time, so a reply that waits for Slack would
hold every reply behind it. Slack replies are therefore not sent by the shared outbound dispatcher (it only
hands them over, :class:`SlackHandover`), but by the ``connectors-slack-outbound`` group
(:class:`SlackOutbound`): a Slack outage or rate limit never delays web, API or Messenger replies.

Inside that group a reply is never dropped: :class:`~switchboard_connectors.channels.slack_api.SlackApi`
honors 429 ``Retry-After`` and backs off on 5xx for at most ``SLACK_MAX_WAIT_SECONDS``, then raises a
transient error; the consumer retries the same record without committing, so the reply stays on Kafka until
Slack takes it, in conversation order. Permanent errors (``channel_not_found``, ``invalid_auth``,
``token_revoked``, ...) end as ``failed`` with the reason, which reaches the agent as
``message.delivery_updated``.
"""

from __future__ import annotations

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import select
from switchboard_common import metrics
from switchboard_common.bus import CONVERSATIONS_TOPIC, EventConsumer
from switchboard_common.db.models import Inbox, Message
from switchboard_common.events import Event, MessageCreated
from switchboard_common.inbox_secrets import decrypt_secrets
from switchboard_common.runtime import Resources

from switchboard_connectors.channels.slack_api import SlackApi, SlackError
from switchboard_connectors.outbound import DeliveryResult, publish_delivery_update

log = structlog.get_logger(__name__)
SENT_TTL_SECONDS = 7 * 24 * 3600


class SlackHandover:
    """The shared dispatcher's sender for "slack": the Slack group delivers and reports the outcome."""

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        return DeliveryResult(status="queued")


class SlackSender:
    """Posts an agent reply where the customer wrote: in the thread of the conversation's first Slack message
    (channel conversations), inline in a DM."""

    def __init__(self, resources: Resources, api: SlackApi) -> None:
        self.res = resources
        self.api = api

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        async with self.res.sessionmaker() as session:
            inbox = await session.get(Inbox, event.payload.inbox_id)
            first = await session.scalar(
                select(Message.external_id)
                .where(
                    Message.conversation_id == event.conversation_id,
                    Message.direction == "inbound",
                    Message.external_id.is_not(None),
                )
                .order_by(Message.created_at, Message.id)
                .limit(1)
            )
        if inbox is None or inbox.channel != "slack":
            return DeliveryResult(status="failed", reason="inbox_deleted")
        token = decrypt_secrets(self.res.keyring, inbox.id, inbox.secrets_encrypted).get("bot_token")
        if not token:
            return DeliveryResult(status="failed", reason="not_installed")
        if not first or ":" not in first:
            return DeliveryResult(status="failed", reason="no_slack_thread")
        channel, ts = first.split(":", 1)
        try:
            posted = await self.api.post_message(
                token, channel, event.payload.text or "", thread_ts=None if channel.startswith("D") else ts
            )
        except SlackError as exc:
            return DeliveryResult(status="failed", reason=exc.error)
        return DeliveryResult(status="sent", external_id=f"{channel}:{posted[0]}")


class SlackOutbound:
    """The ``connectors-slack-outbound`` consumer group: delivers Slack replies, once, and reports them."""

    def __init__(self, resources: Resources, api: SlackApi) -> None:
        self.res = resources
        self.sender = SlackSender(resources, api)

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-slack-outbound",
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
        )

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if not isinstance(event, MessageCreated):
            return
        p = event.payload
        if p.direction != "outbound" or p.channel != "slack":
            return
        # A redelivery after a crash between posting and committing must not post twice.
        sent_key = self.res.keys.dedupe("slack-sent", str(p.message_id))
        previous = await self.res.redis.get(sent_key)
        if previous is not None:
            result = DeliveryResult(status="sent", external_id=previous or None)
        else:
            result = await self.sender.deliver(event)  # raises (transient) while Slack cannot take it
            if result.status == "sent":
                await self.res.redis.set(sent_key, result.external_id or "", ex=SENT_TTL_SECONDS)
        metrics.OUTBOUND_DELIVERIES.labels("slack", result.status).inc()
        if result.status == "failed":
            log.info("slack_reply_failed", message_id=str(p.message_id), reason=result.reason)
        await publish_delivery_update(self.res, event.tenant_id, event.conversation_id, p.message_id, result)
