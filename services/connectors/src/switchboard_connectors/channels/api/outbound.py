"""Agent replies to API inboxes: signed callbacks to the integrator's URL, queued as webhook deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.contacts.models import ContactIdentity
from switchboard_common.domain.events import MessageCreated
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.subscriptions.models import WebhookDelivery
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.outbound import DeliveryResult


class ApiCallbackSender:
    """Queues the signed callback in Postgres; the delivery worker sends and retries it."""

    def __init__(self, resources: Resources) -> None:
        self.res = resources

    async def deliver(self, event: MessageCreated) -> DeliveryResult:
        p = event.payload
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            inbox = await session.get(Inbox, p.inbox_id)
            if inbox is None or not (inbox.settings or {}).get("callback_url"):
                return DeliveryResult(status="failed", reason="no_callback_url")
            external_id = await session.scalar(
                select(ContactIdentity.external_id).where(
                    ContactIdentity.contact_id == p.contact_id, ContactIdentity.channel == "api"
                )
            )
            body = json.dumps(
                {
                    "event": "message.created",
                    "conversation_id": str(event.conversation_id),
                    "contact": {"external_id": external_id},
                    "message": {"id": str(p.message_id), "text": p.text, "created_at": p.created_at.isoformat()},
                },
                separators=(",", ":"),
            ).encode()
            await session.execute(
                insert(WebhookDelivery)
                .values(
                    account_id=event.tenant_id,
                    target_kind="inbox_callback",
                    target_id=inbox.id,
                    conversation_id=event.conversation_id,
                    message_id=p.message_id,
                    event_id=event.event_id,
                    event_type="message.created",
                    body=body,
                    status="pending",
                    attempts=0,
                    next_attempt_at=datetime.now(UTC),
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["target_id", "event_id"])
            )
        return DeliveryResult(status="queued")
