"""Agent replies to Slack customers (``chat.postMessage``), delivered by their own consumer group.

The shared outbound dispatcher only hands Slack replies over
(:class:`~switchboard_connectors.outbound.QueuedHandover`); the ``connectors-slack-outbound`` group
(:class:`SlackOutbound`, a :class:`~switchboard_connectors.outbound.ChannelOutbound`) sends them, so a Slack
outage or rate limit never delays web, API or Messenger replies. Inside that group a reply is never dropped:
:class:`~switchboard_connectors.channels.slack.client.SlackApi` honors 429 ``Retry-After`` and backs off on 5xx
for at most ``SLACK_MAX_WAIT_SECONDS``, then raises a transient error and the consumer retries the same
record, so the reply stays on Kafka until Slack takes it, in conversation order. Permanent errors
(``channel_not_found``, ``invalid_auth``, ``token_revoked``, ...) end as ``failed`` with the reason, which
reaches the agent as ``message.delivery_updated``.
"""

from __future__ import annotations

from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.conversations.models import Message
from switchboard_common.domain.events import MessageCreated
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.slack.client import SlackApi, SlackError
from switchboard_connectors.outbound import ChannelOutbound, DeliveryResult


class SlackSender:
    """Posts an agent reply where the customer wrote: in the thread of the conversation's first Slack message
    (channel conversations), inline in a DM."""

    def __init__(self, resources: Resources, api: SlackApi) -> None:
        self.res = resources
        self.api = api

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
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


class SlackOutbound(ChannelOutbound):
    """The ``connectors-slack-outbound`` consumer group: delivers Slack replies, once, and reports them."""

    def __init__(self, resources: Resources, api: SlackApi) -> None:
        super().__init__(resources, "slack", SlackSender(resources, api))
