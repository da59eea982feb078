from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnClause, ColumnElement, func, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from switchboard_common.domain.accounts.models import User
from switchboard_common.domain.contacts.models import Contact
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.conversations.visibility import Viewer, visible
from switchboard_common.domain.csat.models import CsatSurvey
from switchboard_common.domain.events import (
    Event,
    MessageCreated,
    MessageCreatedPayload,
    NoteCreated,
    NoteCreatedPayload,
    utcnow,
)
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.privacy.consent import is_pass_through
from switchboard_common.domain.search.languages import guess_language
from switchboard_common.domain.sla.models import ConversationSla
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.outbox import add_events

from switchboard_gateway.conversations.schemas import ConversationOut, LastMessageOut, MessageOut

PREVIEW_CHARS = 160
NEVER: ColumnClause[datetime] = literal_column("'-infinity'::timestamptz")


def waiting_since_of(conversation: Any = Conversation) -> ColumnElement[datetime]:
    """Since when the customer waits for an answer: their first message after the last reply (open only)."""
    reply = aliased(Message)
    last_reply = (
        select(func.max(reply.created_at))
        .where(reply.conversation_id == conversation.id, reply.direction == "outbound", ~reply.private)
        .correlate(conversation)
        .scalar_subquery()
    )
    first_unanswered = (
        select(func.min(Message.created_at))
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == "inbound",
            Message.created_at > func.coalesce(last_reply, NEVER),
        )
        .correlate(conversation)
        .scalar_subquery()
    )
    return first_unanswered


EMPTY_SLA: dict[str, Any] = {
    "policy_id": None,
    "first_response_due_at": None,
    "next_response_due_at": None,
    "resolution_due_at": None,
    "paused": False,
    "breached": [],
}


@dataclass(frozen=True)
class Summary:
    contact_name: str | None
    last_message: LastMessageOut | None
    waiting_since: datetime | None
    unread_count: int
    sla: dict[str, Any] | None = None
    csat: dict[str, Any] | None = None


async def service_levels(
    session: AsyncSession, conversations: Sequence[Conversation]
) -> dict[uuid.UUID, tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each conversation's ``sla`` (as the router's SLA worker last computed it) and ``csat`` (once answered)."""
    if not conversations:
        return {}
    ids = [c.id for c in conversations]
    slas: dict[uuid.UUID, dict[str, Any]] = dict(
        (
            await session.execute(
                select(ConversationSla.conversation_id, ConversationSla.summary).where(
                    ConversationSla.conversation_id.in_(ids)
                )
            )
        ).all()
    )
    ratings = {
        row.conversation_id: {"rating": row.rating, "comment": row.comment, "answered_at": row.answered_at}
        for row in (
            await session.execute(
                select(CsatSurvey.conversation_id, CsatSurvey.rating, CsatSurvey.comment, CsatSurvey.answered_at).where(
                    CsatSurvey.conversation_id.in_(ids), CsatSurvey.rating.is_not(None)
                )
            )
        ).all()
    }
    return {c.id: ({**EMPTY_SLA, **(slas.get(c.id) or {})}, ratings.get(c.id)) for c in conversations}


async def summaries(session: AsyncSession, conversations: Sequence[Conversation]) -> dict[uuid.UUID, Summary]:
    """What a conversation list shows per row, in one query for the whole page."""
    if not conversations:
        return {}
    ids = [c.id for c in conversations]
    last = (
        select(Message.text, Message.direction, Message.sender_type, Message.created_at)
        .where(Message.conversation_id == Conversation.id, ~Message.private)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .lateral("last")
    )
    unread = (
        select(func.count())
        .where(
            Message.conversation_id == Conversation.id,
            Message.direction == "inbound",
            Message.created_at > func.coalesce(Conversation.agent_last_seen_at, NEVER),
        )
        .scalar_subquery()
    )
    levels = await service_levels(session, conversations)
    rows = await session.execute(
        select(
            Conversation.id,
            Conversation.status,
            Contact.name,
            func.left(last.c.text, PREVIEW_CHARS).label("preview"),
            last.c.direction,
            last.c.sender_type,
            last.c.created_at,
            waiting_since_of().label("waiting_since"),
            unread.label("unread"),
        )
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(last, true())
        .where(Conversation.id.in_(ids))
    )
    result: dict[uuid.UUID, Summary] = {}
    for row in rows.all():
        last_message = None
        if row.direction is not None:
            last_message = LastMessageOut(
                text=row.preview, direction=row.direction, sender_type=row.sender_type, created_at=row.created_at
            )
        result[row.id] = Summary(
            contact_name=row.name,
            last_message=last_message,
            waiting_since=row.waiting_since if row.status == "open" else None,
            unread_count=int(row.unread or 0),
            sla=levels[row.id][0],
            csat=levels[row.id][1],
        )
    return result


async def get_conversation(
    session: AsyncSession, viewer: Viewer, conversation_id: uuid.UUID, *, for_update: bool = False
) -> Conversation:
    """The conversation if ``viewer`` may see it (account and visibility rule), else a 404."""
    query = select(Conversation).where(Conversation.id == conversation_id, visible(viewer))
    if for_update:
        query = query.with_for_update()
    conversation = await session.scalar(query)
    if conversation is None:
        raise AppError(404, "not_found", "conversation not found")
    return conversation


async def queue_positions_for(
    session: AsyncSession, account_id: uuid.UUID, conversations: Sequence[Conversation]
) -> dict[uuid.UUID, int]:
    """Queue positions (only computed when one of these conversations is waiting)."""
    if not any(c.status == "open" and c.assignee_id is None for c in conversations):
        return {}
    return await routing.queue_positions(session, account_id)


def conversation_out(
    conversation: Conversation,
    *,
    explain: bool = False,
    queue_position: int | None = None,
    summary: Summary | None = None,
    labels: list[str] | None = None,
) -> ConversationOut:
    extra: dict[str, Any] = {"labels": labels or []}
    if summary is not None:
        extra |= {
            "contact_name": summary.contact_name,
            "last_message": summary.last_message,
            "waiting_since": summary.waiting_since,
            "unread_count": summary.unread_count,
            "sla": summary.sla,
            "csat": summary.csat,
        }
    return ConversationOut(
        **extra,
        # Waiting in the queue since (the queue's own order: routing.QUEUE_ORDER).
        queued_at=(conversation.queued_at or conversation.created_at)
        if conversation.status == "open" and not conversation.assignee_id
        else None,
        team_id=conversation.team_id,
        previous_conversation_id=conversation.previous_conversation_id,
        id=conversation.id,
        status=conversation.status,
        assignee_id=conversation.assignee_id,
        inbox_id=conversation.inbox_id,
        contact_id=conversation.contact_id,
        channel=conversation.channel,
        priority=conversation.priority,
        created_at=conversation.created_at,
        last_message_at=conversation.last_message_at,
        queue_position=queue_position,
        routing_explanation=conversation.routing_explanation if explain else None,
    )


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,
        sender_type=message.sender_type,
        sender_id=message.sender_id,
        text=message.text,
        attachments=message.attachments or [],
        delivery_status=message.delivery_status,
        delivery_error=message.delivery_error,
        created_at=message.created_at,
        private=message.private,
        mentions=[uuid.UUID(str(m)) for m in (message.mentions or [])],
    )


async def create_agent_reply(
    session: AsyncSession, *, conversation: Conversation, agent_id: uuid.UUID, text: str
) -> tuple[Message, Event]:
    """Stores the reply and stages its event in the same transaction (delivered by the connectors).

    In a pass-through inbox the text travels in the event only; the stored row keeps no content.
    """
    now = utcnow()
    inbox = await session.get(Inbox, conversation.inbox_id)
    store_content = not is_pass_through(inbox)
    message = Message(
        id=uuid.uuid4(),
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        direction="outbound",
        sender_type="agent",
        sender_id=agent_id,
        text=text if store_content else None,
        attachments=[],
        delivery_status="pending",
        created_at=now,
        language=guess_language(text, (inbox.settings or {}).get("language") if inbox is not None else None),
    )
    session.add(message)
    conversation.last_message_at = now
    event = MessageCreated(
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=MessageCreatedPayload(
            message_id=message.id,
            inbox_id=conversation.inbox_id,
            contact_id=conversation.contact_id,
            channel=conversation.channel,
            direction="outbound",
            sender_type="agent",
            sender_id=agent_id,
            text=text,
            created_at=now,
        ),
    )
    add_events(session, [event])
    await session.flush()
    return message, event


MENTION_BOUNDARY = re.compile(r"[\w@.-]")


async def resolve_mentions(session: AsyncSession, text: str, explicit: list[uuid.UUID]) -> list[uuid.UUID]:
    """The account's agents a note mentions: ``@Display Name`` or ``@email-local-part`` in the text (longest
    name wins, case-insensitive), plus ids given explicitly. Unknown ids are an error, never ignored."""
    agents = (await session.execute(select(User.id, User.name, User.email).where(User.deleted_at.is_(None)))).all()
    known = {a.id for a in agents}
    unknown = [str(i) for i in explicit if i not in known]
    if unknown:
        # Ids of another account's agents are unknown here, as everywhere: a 404.
        raise AppError(404, "unknown_agent", "mentions name agents of another account or nobody", details=unknown)
    found: list[uuid.UUID] = list(dict.fromkeys(explicit))
    lowered = text.lower()
    handles = sorted(
        (
            (handle, a.id)
            for a in agents
            for handle in {a.name.lower().strip(), a.email.split("@")[0].lower()}
            if handle
        ),
        key=lambda pair: -len(pair[0]),
    )
    for at in (
        i for i, ch in enumerate(lowered) if ch == "@" and (i == 0 or not MENTION_BOUNDARY.match(lowered[i - 1]))
    ):
        rest = lowered[at + 1 :]
        for handle, agent_id in handles:
            end = len(handle)
            if rest.startswith(handle) and (len(rest) == end or not re.match(r"\w", rest[end])):
                if agent_id not in found:
                    found.append(agent_id)
                break
    return found


async def create_note(
    session: AsyncSession,
    *,
    conversation: Conversation,
    author_id: uuid.UUID,
    text: str,
    mentions: list[uuid.UUID],
) -> tuple[Message, NoteCreated]:
    """A private note in the timeline, with its event staged in the same transaction (outbox).

    The event has its own type (``note.created``), which no channel sender takes: a note cannot reach the
    customer by any path. In a pass-through inbox its text travels in the event only (live to agents)."""
    now = utcnow()
    inbox = await session.get(Inbox, conversation.inbox_id)
    settings = (inbox.settings or {}) if inbox is not None else {}
    message = Message(
        id=uuid.uuid4(),
        account_id=conversation.account_id,
        conversation_id=conversation.id,
        direction="outbound",
        sender_type="agent",
        sender_id=author_id,
        text=None if is_pass_through(inbox) else text,
        attachments=[],
        private=True,
        mentions=[str(m) for m in mentions],
        created_at=now,
        language=guess_language(text, settings.get("language")),
    )
    session.add(message)
    event = NoteCreated(
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=NoteCreatedPayload(
            message_id=message.id,
            inbox_id=conversation.inbox_id,
            contact_id=conversation.contact_id,
            channel=conversation.channel,
            author_id=author_id,
            text=text,
            mentions=mentions,
            created_at=now,
        ),
    )
    add_events(session, [event])
    await session.flush()
    return message, event
