"""Slack as the agents' workspace: conversations of a linked inbox (``settings.slack_mirror_inbox_id`` on a web
or Messenger inbox) are mirrored into the Slack inbox's channel: a parent message per conversation, each
customer message in its thread. Humans answer in the thread (``slack_webhook`` turns that into an agent reply).

Every message written into Slack is recorded in ``slack_mirror_messages`` (the Slack inbox whose token posted
it, channel and ts), so an erasure can delete the copies through Slack's API.
"""

from __future__ import annotations

import uuid

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.events import Event, MessageCreated
from switchboard_common.domain.inboxes.models import Inbox, SlackMirrorMessage
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.domain.inboxes.slack_threads import thread_header
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter, header
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.slack.client import SlackApi, SlackError
from switchboard_connectors.ingress import InboxDirectory

log = structlog.get_logger(__name__)


class SlackMirror:
    """The ``connectors-slack-mirror`` consumer group."""

    def __init__(self, resources: Resources, api: SlackApi, directory: InboxDirectory) -> None:
        self.res = resources
        self.api = api
        self.directory = directory

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-slack-mirror",
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=frozenset({"message.created"}), directions=frozenset({"inbound"})),
            # Every customer message passes the filter and few inboxes are mirrored: the poll's inboxes are
            # looked up (cached) from the record headers, and only messages of mirrored ones are decoded.
            gate=self.mirrored,
        )

    async def mirrored(self, records: list[ConsumerRecord]) -> list[bool]:
        """Whether each record is a message of an inbox mirrored into Slack; a record without the inbox and
        channel headers passes (its event decides)."""
        inboxes: dict[tuple[str, str], bool] = {}
        for record in records:
            inbox, channel = header(record, "inbox_id"), header(record, "channel")
            if inbox is None or channel is None or (inbox, channel) in inboxes:
                continue
            try:
                source = await self.directory.by_id(uuid.UUID(inbox), channel) if channel != "slack" else None
            except ValueError:
                source = None
            inboxes[(inbox, channel)] = source is not None and bool(source.settings.get("slack_mirror_inbox_id"))
        return [
            inboxes.get((inbox, channel), False) if inbox is not None and channel is not None else True
            for inbox, channel in ((header(r, "inbox_id"), header(r, "channel")) for r in records)
        ]

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        # Only customers' messages: agent replies (also those written in Slack) are not mirrored back.
        if not isinstance(event, MessageCreated) or event.payload.direction != "inbound":
            return
        p = event.payload
        if p.channel == "slack":
            return
        # Most inboxes are not mirrored: the cached directory answers that without a database read.
        source = await self.directory.by_id(p.inbox_id, p.channel)
        mirror_id = source.settings.get("slack_mirror_inbox_id") if source is not None else None
        if not mirror_id:
            return
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            mirror = await session.scalar(
                select(Inbox).where(Inbox.id == uuid.UUID(str(mirror_id)), Inbox.channel == "slack")
            )
            if mirror is None:
                return
            rows = (
                await session.scalars(
                    select(SlackMirrorMessage).where(
                        SlackMirrorMessage.conversation_id == event.conversation_id,
                        SlackMirrorMessage.inbox_id == mirror.id,
                    )
                )
            ).all()
            contact = await session.get(Contact, p.contact_id)
        if any(r.message_id == p.message_id for r in rows):
            return  # already mirrored (a redelivery)
        token = decrypt_secrets(self.res.keyring, mirror.id, mirror.secrets_encrypted).get("bot_token")
        channel = (mirror.settings or {}).get("channel_id")
        if not token or not channel:
            return
        parent = next((r.slack_ts for r in rows if r.message_id is None), None)
        try:
            if parent is None:
                [parent] = await self.api.post_message(
                    token, channel, thread_header(p.channel, contact.name if contact is not None else None)
                )
                await self._record(event, mirror.id, channel, [parent], None)
            posted = await self.api.post_message(token, channel, p.text or "(attachment)", thread_ts=parent)
            await self._record(event, mirror.id, channel, posted, p.message_id)
        except SlackError as exc:
            # A copy for the agents; the customer's conversation goes on in the product. SlackUnavailable
            # (transient) is not caught: the consumer retries.
            log.warning("slack_mirror_failed", error=exc.error, conversation_id=str(event.conversation_id))

    async def _record(
        self, event: MessageCreated, inbox_id: uuid.UUID, channel: str, posted: list[str], message_id: uuid.UUID | None
    ) -> None:
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            for ts in posted:
                await session.execute(
                    insert(SlackMirrorMessage)
                    .values(
                        id=uuid.uuid4(),
                        account_id=event.tenant_id,
                        conversation_id=event.conversation_id,
                        message_id=message_id,
                        inbox_id=inbox_id,
                        slack_channel_id=channel,
                        slack_ts=ts,
                    )
                    .on_conflict_do_nothing(index_elements=["slack_channel_id", "slack_ts"])
                )
