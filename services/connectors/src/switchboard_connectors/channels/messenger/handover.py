"""Messenger's handover protocol, for pages where Switchboard shares conversations with another app.

A page uses it when its inbox has ``settings.handover_target_app_id`` (typically Meta's Page Inbox,
263902037430900). Only one app holds a thread (one customer's conversation) at a time; the others get its
events under ``standby`` and cannot send (Graph error 10 / 2018300). Switchboard, as the page's primary
receiver:

* passes the thread to the target app when its bot hands a conversation to humans;
* takes it back (``take_thread_control``) when one of its agents claims the conversation or replies while
  another app holds it, so the reply can be sent;
* follows ``pass_thread_control`` / ``take_thread_control`` notifications to know who holds each thread,
  and answers ``request_thread_control`` by passing the thread to the requesting app unless a Switchboard
  agent is handling the conversation.

Who holds a thread is kept in Redis per inbox and customer (absent: Switchboard or nobody).
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.contacts.models import ContactIdentity
from switchboard_common.domain.contacts.pseudonyms import messenger_psid
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import InboundHandoverReceived
from switchboard_common.infra.runtime import Resources

from switchboard_connectors.channels.messenger.client import GraphApi, GraphError
from switchboard_connectors.ingress import InboxRecord

log = structlog.get_logger(__name__)

CHANNEL = "messenger"
PAGE_INBOX_APP_ID = "263902037430900"
# Assignments that mean a Switchboard agent deliberately took the conversation (not automatic routing,
# which follows a bot handoff and must not undo the pass to the page's human app).
CLAIM_REASONS = frozenset({"claimed", "self_assigned", "assigned_by_admin", "offer_accepted"})
OWNER_TTL_SECONDS = 30 * 24 * 3600
UNKNOWN_APP = "unknown"


def uses_handover(settings: dict[str, object]) -> bool:
    return bool(settings.get("handover_target_app_id"))


class ThreadControl:
    """Pass, take and request thread control through Graph, and remember who holds each thread."""

    def __init__(self, resources: Resources, api: GraphApi, app_id: str = "") -> None:
        self.res = resources
        self.api = api
        self.app_id = app_id

    def _owner_key(self, inbox_id: uuid.UUID, psid: str) -> str:
        return self.res.keys.messenger_thread_owner(inbox_id, messenger_psid(self.res.pseudonyms, psid))

    async def other_owner(self, inbox_id: uuid.UUID, psid: str) -> str | None:
        """The app holding this thread when it is not Switchboard (``"unknown"`` when unnamed), else None."""
        value = await self.res.redis.get(self._owner_key(inbox_id, psid))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def mark_ours(self, inbox_id: uuid.UUID, psid: str) -> None:
        await self.res.redis.delete(self._owner_key(inbox_id, psid))

    async def mark_other(self, inbox_id: uuid.UUID, psid: str, app_id: str | None) -> None:
        await self.res.redis.set(self._owner_key(inbox_id, psid), app_id or UNKNOWN_APP, ex=OWNER_TTL_SECONDS)

    async def pass_to(self, inbox_id: uuid.UUID, token: str, psid: str, target: str, metadata: str) -> bool:
        body = {"recipient": {"id": psid}, "target_app_id": target, "metadata": metadata}
        try:
            await self.api.call("me/pass_thread_control", token, body)
        except GraphError as exc:
            log.warning("messenger_pass_thread_control_failed", reason=exc.reason, inbox_id=str(inbox_id))
            return False
        await self.mark_other(inbox_id, psid, target)
        return True

    async def take(self, inbox_id: uuid.UUID, token: str, psid: str, metadata: str) -> bool:
        """Takes the thread back (as the primary receiver). If Graph refuses (Switchboard is a secondary
        receiver), asks the owner with ``request_thread_control`` instead and returns False."""
        recipient = {"recipient": {"id": psid}, "metadata": metadata}
        try:
            await self.api.call("me/take_thread_control", token, recipient)
        except GraphError as exc:
            log.info("messenger_take_thread_control_refused", reason=exc.reason, inbox_id=str(inbox_id))
            try:
                await self.api.call("me/request_thread_control", token, recipient)
            except GraphError as request_exc:
                log.warning("messenger_request_thread_control_failed", reason=request_exc.reason)
            return False
        await self.mark_ours(inbox_id, psid)
        return True

    async def psid_of(self, account_id: uuid.UUID, conversation_id: uuid.UUID, page_id: str) -> str | None:
        async with tenant_session(self.res.sessionmaker, account_id) as session:
            identity = await session.scalar(
                select(ContactIdentity.external_id)
                .join(Conversation, Conversation.contact_id == ContactIdentity.contact_id)
                .where(Conversation.id == conversation_id, ContactIdentity.channel == CHANNEL)
            )
        if not identity or not identity.startswith(f"{page_id}:"):
            return None
        return identity.split(":", 1)[1]

    async def _agent_handles(self, event: InboundHandoverReceived) -> bool:
        """Whether a Switchboard agent is assigned to this customer's unresolved conversation in the inbox."""
        p = event.payload
        async with tenant_session(self.res.sessionmaker, event.tenant_id) as session:
            assignee = await session.scalar(
                select(Conversation.assignee_id)
                .join(ContactIdentity, ContactIdentity.contact_id == Conversation.contact_id)
                .where(
                    ContactIdentity.channel == CHANNEL,
                    ContactIdentity.external_id == p.external_contact_id,
                    Conversation.inbox_id == p.inbox_id,
                    Conversation.status.in_(("open", "pending", "snoozed")),
                )
                .limit(1)
            )
        return assignee is not None

    async def on_notification(self, event: InboundHandoverReceived, inbox: InboxRecord) -> None:
        """Follows another app's handover move, or answers its request for the thread."""
        p = event.payload
        psid = p.external_contact_id.split(":", 1)[-1]
        if p.action in ("pass", "take"):
            # Without our app id configured, fall back on who each notification is sent to: a pass goes to
            # the app receiving the thread, a take to the app losing it.
            ours = p.app_id == self.app_id if self.app_id else p.action == "pass"
            if ours:
                await self.mark_ours(inbox.id, psid)
            else:
                await self.mark_other(inbox.id, psid, p.app_id)
            log.info("messenger_thread_control_changed", action=p.action, ours=ours, inbox_id=str(inbox.id))
            return
        # request_thread_control reaches the thread's owner: us.
        requester = p.app_id or str(inbox.settings.get("handover_target_app_id") or "")
        if not requester or requester == self.app_id:
            return
        if await self._agent_handles(event):
            log.info("messenger_thread_request_declined", inbox_id=str(inbox.id), reason="agent_assigned")
            return
        token = inbox.secrets.get("page_access_token")
        if token:
            await self.pass_to(inbox.id, str(token), psid, requester, "requested")
