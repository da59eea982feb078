"""Satisfaction surveys out and answers in: after a resolution the customer is asked, in their channel, to
rate the conversation 1-5.

:class:`CsatScheduler` (group ``connectors-csat``) turns each ``conversation.status_changed`` to ``resolved``
of an inbox with surveys on into one ``csat_surveys`` row due ``delay_minutes`` later (one per conversation,
``ON CONFLICT DO NOTHING``). :class:`CsatWorker` takes due rows with ``FOR UPDATE SKIP LOCKED`` (any number of
replicas), asks in the channel and marks the row sent in the same transaction that stages
``conversation.csat_requested``: the widget gets a ``csat.request`` frame on the visitor socket, Messenger five
quick replies, Slack five buttons (answered through ``/webhooks/slack/interactivity``), the API channel a signed
``csat.requested`` callback (answered by posting ``{"csat": ...}`` to its webhook). A channel that cannot take
it now is retried with backoff, then given up (``failed``). Answers from channels arrive as
``inbound.csat_received`` and are recorded by :func:`record_inbound_answer`.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.tenancy import cross_tenant_session, tenant_session
from switchboard_common.domain.contacts.models import ContactIdentity
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.csat import surveys
from switchboard_common.domain.csat.models import CsatSurvey
from switchboard_common.domain.events import (
    ConversationCsatRequested,
    ConversationCsatRequestedPayload,
    ConversationStatusChanged,
    Event,
    InboundCsatReceived,
)
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.inboxes.secrets import decrypt_secrets
from switchboard_common.domain.subscriptions.models import WebhookDelivery
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.outbox import add_events, publish_staged
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.wakeup import DatabaseWakeup

from switchboard_connectors.channels.messenger.client import GraphApi, GraphError
from switchboard_connectors.channels.slack.client import SlackApi, SlackError

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=30)
# The longest an idle worker sleeps without a due survey or a notification (a missed NOTIFY costs at most this).
IDLE_MAX_SECONDS = 10.0
STARS = {1: "1 ★", 2: "2 ★★", 3: "3 ★★★", 4: "4 ★★★★", 5: "5 ★★★★★"}


class NotNow(Exception):
    """The channel cannot take the survey now (retry later)."""


class CsatScheduler:
    """Schedules a survey when a conversation of an inbox with surveys on is resolved."""

    def __init__(self, resources: Resources) -> None:
        self.res = resources

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="connectors-csat",
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=frozenset({"conversation.status_changed"})),
        )

    async def handle(self, event: Event, _record: ConsumerRecord | None = None) -> None:
        if not isinstance(event, ConversationStatusChanged) or event.payload.status != "resolved":
            return
        async with tenant_session(self.res.sessionmaker, event.tenant_id, begin=True) as session:
            row = (
                await session.execute(
                    select(Conversation, Inbox)
                    .join(Inbox, Inbox.id == Conversation.inbox_id)
                    .where(Conversation.id == event.conversation_id)
                )
            ).first()
            if row is None:
                return
            conversation, inbox = row
            config = surveys.settings_of(inbox.settings)
            if not config["enabled"]:
                return
            resolved_at = event.occurred_at if event.occurred_at.tzinfo else event.occurred_at.replace(tzinfo=UTC)
            await session.execute(
                insert(CsatSurvey)
                .values(
                    conversation_id=conversation.id,
                    account_id=conversation.account_id,
                    inbox_id=inbox.id,
                    channel=conversation.channel,
                    agent_id=conversation.assignee_id,
                    status="scheduled",
                    question=surveys.question_of(config),
                    send_at=resolved_at + timedelta(minutes=int(config["delay_minutes"] or 0)),
                    attempts=0,
                    revision=0,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["conversation_id"])
            )


class CsatWorker(PeriodicWorker):
    """Asks due surveys in their channel. Idle, it does not poll: it sleeps until the next survey is due or an
    insert's NOTIFY wakes it (switchboard_common.infra.wakeup), and looks at least every ``IDLE_MAX_SECONDS``."""

    name = "connectors-csat"

    def __init__(self, res: Resources, slack: SlackApi, graph: GraphApi, *, interval: float = 0.5) -> None:
        super().__init__(interval)
        self.res = res
        self.slack = slack
        self.graph = graph
        # Inserts wake the worker (migration 0019's trigger); while not listening it polls every interval.
        self.wakeup = DatabaseWakeup(res.settings, "csat_surveys", fallback_seconds=interval)

    async def start(self) -> None:
        await self.wakeup.start()
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        await self.wakeup.stop()

    async def tick(self) -> int:
        return await self.send_due()

    async def pause(self, result: object) -> None:
        if result:  # it sent some: there may be more due
            await super().pause(result)
            return
        await self.wakeup.wait(await self.idle_seconds(), self._stopping)

    async def idle_seconds(self, now: datetime | None = None) -> float:
        """Until the earliest scheduled survey is due: at least ``interval``, at most ``IDLE_MAX_SECONDS``."""
        try:
            async with cross_tenant_session(self.res.sessionmaker) as session:
                due = await session.scalar(select(func.min(CsatSurvey.send_at)).where(CsatSurvey.status == "scheduled"))
        except Exception as exc:
            log.warning("csat_next_due_error", error=type(exc).__name__)
            return self.interval
        if due is None:
            return IDLE_MAX_SECONDS
        return min(IDLE_MAX_SECONDS, max(self.interval, (due - (now or utcnow())).total_seconds()))

    async def send_due(self, now: datetime | None = None, *, limit: int = 50) -> int:
        now = now or utcnow()
        events: list[Event] = []
        # Due surveys of every account, each sent with its own row's ids.
        async with cross_tenant_session(self.res.sessionmaker) as session, session.begin():
            due = (
                await session.scalars(
                    select(CsatSurvey)
                    .where(CsatSurvey.status == "scheduled", CsatSurvey.send_at <= now)
                    .order_by(CsatSurvey.send_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for survey in due:
                conversation = await session.get(Conversation, survey.conversation_id)
                inbox = await session.get(Inbox, survey.inbox_id)
                if conversation is None or inbox is None:
                    survey.status = "failed"
                    continue
                try:
                    await self._ask(session, survey, conversation, inbox)
                except NotNow as exc:
                    survey.attempts += 1
                    survey.status = "scheduled" if survey.attempts < MAX_ATTEMPTS else "failed"
                    survey.send_at = now + RETRY_BASE * (2**survey.attempts)
                    log.info("csat_deferred", channel=survey.channel, reason=str(exc)[:80], attempts=survey.attempts)
                    continue
                except (SlackError, GraphError) as exc:
                    survey.status = "failed"
                    log.info("csat_failed", channel=survey.channel, reason=type(exc).__name__)
                    continue
                survey.status = "sent"
                survey.sent_at = now
                events.append(
                    ConversationCsatRequested(
                        event_id=uuid.uuid5(surveys.CSAT_NAMESPACE, f"{survey.conversation_id}:requested"),
                        tenant_id=survey.account_id,
                        conversation_id=survey.conversation_id,
                        occurred_at=now,
                        payload=ConversationCsatRequestedPayload(
                            inbox_id=survey.inbox_id,
                            contact_id=conversation.contact_id,
                            channel=survey.channel,
                            question=survey.question,
                            agent_id=survey.agent_id,
                        ),
                    )
                )
            add_events(session, events)
        await publish_staged(self.res.sessionmaker, self.res.bus, events)
        return len(events)

    async def _ask(self, session: AsyncSession, survey: CsatSurvey, conversation: Conversation, inbox: Inbox) -> None:
        if survey.channel == "web":
            await self.res.streams.push_once(
                self.res.keys.contact_stream(conversation.contact_id),
                f"csat:{survey.conversation_id}",
                {
                    "type": "csat.request",
                    "conversation_id": str(survey.conversation_id),
                    "question": survey.question,
                    "ratings": list(surveys.RATINGS),
                },
            )
        elif survey.channel == "messenger":
            await self._ask_messenger(session, survey, conversation, inbox)
        elif survey.channel == "slack":
            await self._ask_slack(session, survey, inbox)
        elif survey.channel == "api":
            await self._ask_api(session, survey, conversation, inbox)

    async def _ask_messenger(
        self, session: AsyncSession, survey: CsatSurvey, conversation: Conversation, inbox: Inbox
    ) -> None:
        token = decrypt_secrets(self.res.keyring, inbox.id, inbox.secrets_encrypted).get("page_access_token")
        page_id = str((inbox.settings or {}).get("page_id", ""))
        identity = await session.scalar(
            select(ContactIdentity.external_id).where(
                ContactIdentity.contact_id == conversation.contact_id, ContactIdentity.channel == "messenger"
            )
        )
        if not token or not identity or not identity.startswith(f"{page_id}:"):
            raise GraphError("no_messenger_recipient")
        body = {
            "recipient": {"id": identity.split(":", 1)[1]},
            # Within the 24-hour window the customer's last message opened.
            "messaging_type": "RESPONSE",
            "message": {
                "text": survey.question,
                "quick_replies": [
                    {"content_type": "text", "title": STARS[r], "payload": surveys.choice(survey.conversation_id, r)}
                    for r in surveys.RATINGS
                ],
            },
        }
        try:
            await self.graph.call("me/messages", str(token), body)
        except ConnectionError as exc:
            raise NotNow(type(exc).__name__) from exc

    async def _ask_slack(self, session: AsyncSession, survey: CsatSurvey, inbox: Inbox) -> None:
        token = decrypt_secrets(self.res.keyring, inbox.id, inbox.secrets_encrypted).get("bot_token")
        first = await session.scalar(
            select(Message.external_id)
            .where(
                Message.conversation_id == survey.conversation_id,
                Message.direction == "inbound",
                Message.external_id.is_not(None),
            )
            .order_by(Message.created_at, Message.id)
            .limit(1)
        )
        if not token or not first or ":" not in first:
            raise SlackError("no_slack_thread")
        channel, ts = first.split(":", 1)
        body: dict[str, Any] = {
            "channel": channel,
            "text": survey.question,
            "blocks": [
                {"type": "section", "text": {"type": "plain_text", "text": survey.question}},
                {
                    "type": "actions",
                    "block_id": "csat",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": f"csat_{r}",
                            "text": {"type": "plain_text", "text": STARS[r]},
                            "value": surveys.choice(survey.conversation_id, r),
                        }
                        for r in surveys.RATINGS
                    ],
                },
            ],
        }
        if not channel.startswith("D"):
            body["thread_ts"] = ts
        try:
            await self.slack.call("chat.postMessage", token=str(token), json=body)
        except ConnectionError as exc:
            raise NotNow(type(exc).__name__) from exc

    async def _ask_api(
        self, session: AsyncSession, survey: CsatSurvey, conversation: Conversation, inbox: Inbox
    ) -> None:
        if not (inbox.settings or {}).get("callback_url"):
            raise GraphError("no_callback_url")
        external_id = await session.scalar(
            select(ContactIdentity.external_id).where(
                ContactIdentity.contact_id == conversation.contact_id, ContactIdentity.channel == "api"
            )
        )
        event_id = uuid.uuid5(surveys.CSAT_NAMESPACE, f"{survey.conversation_id}:requested")
        body = json.dumps(
            {
                "event": "csat.requested",
                "conversation_id": str(survey.conversation_id),
                "contact": {"external_id": external_id},
                "csat": {"question": survey.question, "ratings": list(surveys.RATINGS)},
            },
            separators=(",", ":"),
        ).encode()
        await session.execute(
            insert(WebhookDelivery)
            .values(
                account_id=survey.account_id,
                target_kind="inbox_callback",
                target_id=inbox.id,
                conversation_id=survey.conversation_id,
                message_id=None,
                event_id=event_id,
                event_type="csat.requested",
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=utcnow(),
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["target_id", "event_id"])
        )


async def record_inbound_answer(res: Resources, event: InboundCsatReceived) -> None:
    """A rating from a channel: recorded when the customer who gave it is the conversation's contact."""
    p = event.payload
    events: list[Event] = []
    async with tenant_session(res.sessionmaker, event.tenant_id, begin=True) as session:
        conversation = await session.scalar(
            select(Conversation).where(
                Conversation.id == p.conversation_id,
                Conversation.inbox_id == p.inbox_id,
            )
        )
        if conversation is None:
            return
        identity = await session.scalar(
            select(ContactIdentity.contact_id).where(
                ContactIdentity.channel == p.channel,
                ContactIdentity.external_id == p.external_contact_id,
            )
        )
        if identity != conversation.contact_id:
            log.info("csat_answer_ignored", channel=p.channel, reason="not_the_contact")
            return
        survey = await session.scalar(
            select(CsatSurvey).where(CsatSurvey.conversation_id == p.conversation_id).with_for_update()
        )
        try:
            answered = surveys.record_answer(
                survey, contact_id=conversation.contact_id, rating=p.rating, comment=p.comment, at=p.answered_at
            )
        except AppError as exc:
            log.info("csat_answer_ignored", channel=p.channel, reason=exc.code)
            return
        if answered is not None:
            events.append(answered)
            add_events(session, events)
    await publish_staged(res.sessionmaker, res.bus, events)
