"""Files customers share on Slack, fetched after the ack (the webhook only carries their metadata).

The ``connectors-slack-files`` group downloads each file of an inbound Slack message with the inbox's bot token
and puts it in the attachment store as ``{account_id}/{contact_id}/slack-{message_id}-{slack_file_id}`` (a
deterministic key: a redelivery finds it stored; in the contact's folder, so erasure and access exports cover it).
Only hosts in ``SLACK_FILE_HOSTS`` are fetched: the bot token is never sent anywhere else.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.events import Event, MessageCreated
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.slack.client import SlackApi, SlackError
from switchboard_connectors.settings import ConnectorSettings

log = structlog.get_logger(__name__)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def attachment_key(account_id: uuid.UUID, contact_id: uuid.UUID, message_id: uuid.UUID, file_id: str) -> str:
    return f"{account_id}/{contact_id}/slack-{message_id}-{file_id}"


class SlackFiles:
    def __init__(self, resources: Resources, api: SlackApi, settings: ConnectorSettings) -> None:
        self.res = resources
        self.api = api
        self.settings = settings
        self.hosts = {h.strip().lower() for h in settings.slack_file_hosts.split(",") if h.strip()}

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-slack-files",
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(
                types=frozenset({"message.created"}), directions=frozenset({"inbound"}), channels=frozenset({"slack"})
            ),
        )

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in {"https", "http"} and (parts.hostname or "").lower() in self.hosts

    async def handle(self, event: Event, _record: ConsumerRecord) -> None:
        if not isinstance(event, MessageCreated):
            return
        p = event.payload
        if p.channel != "slack" or p.direction != "inbound" or not p.attachments:
            return
        # (file id, url): ids become path parts, so only Slack-shaped ids are accepted.
        wanted = [
            (a.external_id, a.url) for a in p.attachments if a.url and a.external_id and _SAFE_ID.match(a.external_id)
        ]
        if not wanted:
            return
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            inbox = await session.scalar(select(Inbox).where(Inbox.id == p.inbox_id, Inbox.channel == "slack"))
        if inbox is None:
            return
        token = decrypt_secrets(self.res.keyring, inbox.id, inbox.secrets_encrypted).get("bot_token")
        if not token:
            return
        for file_id, url in wanted:
            key = attachment_key(event.tenant_id, p.contact_id, p.message_id, file_id)
            if await self.res.attachments.exists(key):
                continue  # a redelivery: already stored
            if not self.allowed(url):
                log.warning("slack_file_host_refused", message_id=str(p.message_id), file_id=file_id)
                continue
            try:
                content = await self.api.download(token, url, self.settings.slack_file_max_bytes)
            except SlackError as exc:
                log.warning("slack_file_skipped", message_id=str(p.message_id), reason=exc.error)
                continue
            await self.res.attachments.put_object(key, content)
            log.info("slack_file_stored", message_id=str(p.message_id), file_id=file_id)
