from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import case, func, select, update
from switchboard_common.domain.conversations.ingest import labels_changed_event
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.conversations.visibility import visible
from switchboard_common.domain.events import ConversationLabelsChanged, Event
from switchboard_common.domain.labels import queries as labels
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides
from switchboard_common.infra.outbox import add_events, publish_staged

from switchboard_gateway.conversations import schemas, service
from switchboard_gateway.deps import CurrentAgent, ResourcesDep, SessionDep, ViewerDep
from switchboard_gateway.labels.schemas import LABEL_PATTERN

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


@router.get(
    "",
    response_model=list[schemas.ConversationOut],
    openapi_extra=provides(conversation_id="$response.body#/0/id", contact_id="$response.body#/0/contact_id"),
)
async def list_conversations(
    agent: CurrentAgent,
    session: SessionDep,
    status_filter: Literal["bot", "open", "pending", "snoozed", "resolved", "spam", "queued", "all"] | None = Query(
        default=None, alias="status"
    ),
    assignee: Literal["me", "unassigned", "any"] | None = None,
    inbox_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    label: str | None = Query(
        default=None, max_length=50, pattern=LABEL_PATTERN, description="only conversations carrying this label"
    ),
    sort: Literal["newest", "needs_answer"] = Query(
        default="newest",
        description="newest: newest first (pages with `before`); needs_answer: waiting in the queue first (longest"
        " wait first), then conversations whose customer waits for a reply (longest first), then the rest by"
        " latest activity",
    ),
    limit: int = Query(default=50, ge=1, le=500),
    before: uuid.UUID | None = Query(default=None, description="cursor: id of the last conversation seen"),
    *,
    viewer: ViewerDep,
) -> list[schemas.ConversationOut]:
    # Only what the caller may see (account visibility setting; owners and admins see all).
    query = select(Conversation).where(visible(viewer))
    if status_filter == "queued":
        query = query.where(Conversation.status == "open", Conversation.assignee_id.is_(None))
    elif status_filter and status_filter != "all":
        query = query.where(Conversation.status == status_filter)
    if assignee == "me":
        query = query.where(Conversation.assignee_id == agent.user_id)
    elif assignee == "unassigned":
        query = query.where(Conversation.assignee_id.is_(None))
    if inbox_id is not None:
        query = query.where(Conversation.inbox_id == inbox_id)
    if contact_id is not None:
        query = query.where(Conversation.contact_id == contact_id)
    if label:
        query = query.where(labels.has_label(label))
    if sort == "needs_answer":
        queued = (Conversation.status == "open") & Conversation.assignee_id.is_(None)
        waiting = case((Conversation.status == "open", service.waiting_since_of()), else_=None)
        query = query.order_by(
            case((queued, 0), else_=1),
            case((queued, func.coalesce(Conversation.queued_at, Conversation.created_at)), else_=None),
            waiting.asc().nulls_last(),
            func.coalesce(Conversation.last_message_at, Conversation.created_at).desc(),
            Conversation.id,
        )
    elif before is not None:
        cursor = await session.scalar(select(Conversation.created_at).where(Conversation.id == before))
        if cursor is not None:
            query = query.where(Conversation.created_at < cursor)
    if sort == "newest":
        query = query.order_by(Conversation.created_at.desc())
    rows = (await session.scalars(query.limit(limit))).all()
    positions = await service.queue_positions_for(session, agent.account_id, rows)
    summaries = await service.summaries(session, rows)
    names = await labels.labels_by_conversation(session, [c.id for c in rows])
    explain = agent.role in ("owner", "admin")
    return [
        service.conversation_out(
            c,
            explain=explain,
            queue_position=positions.get(c.id),
            summary=summaries.get(c.id),
            labels=names.get(c.id),
        )
        for c in rows
    ]


@router.get(
    "/{conversation_id}",
    response_model=schemas.ConversationOut,
    openapi_extra=provides(contact_id="$response.body#/contact_id"),
)
async def get_conversation(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, viewer: ViewerDep
) -> schemas.ConversationOut:
    conversation = await service.get_conversation(session, viewer, conversation_id)
    positions = await service.queue_positions_for(session, agent.account_id, [conversation])
    summaries = await service.summaries(session, [conversation])
    return service.conversation_out(
        conversation,
        explain=agent.role in ("owner", "admin"),
        queue_position=positions.get(conversation.id),
        summary=summaries.get(conversation.id),
        labels=await labels.labels_of(session, conversation.id),
    )


@router.put(
    "/{conversation_id}/labels",
    response_model=schemas.ConversationOut,
    responses=errors(conflict="unknown_label: create these labels first (error.details.labels)"),
)
async def put_labels(
    conversation_id: uuid.UUID,
    body: schemas.LabelsUpdate,
    session: SessionDep,
    viewer: ViewerDep,
    resources: ResourcesDep,
) -> schemas.ConversationOut:
    """The conversation carries exactly these labels (names of the account's labels; an unknown one is a 409).
    A change publishes ``conversation.labels_changed`` (label SLA policies and label reports follow it)."""
    events: list[ConversationLabelsChanged] = []
    async with atomic(session):
        conversation = await service.get_conversation(session, viewer, conversation_id, for_update=True)
        found = await labels.label_ids(session, viewer.account_id, body.labels)
        unknown = sorted(set(body.labels) - set(found))
        if unknown:
            # 409, not 422: the name is well formed; the account has no such label (yet).
            raise AppError(409, "unknown_label", "create these labels first", details={"labels": unknown})
        before = await labels.labels_of(session, conversation.id)
        await labels.replace_labels(session, viewer.account_id, conversation.id, found.values())
        current = await labels.labels_of(session, conversation.id)
        if current != before:
            events.append(
                labels_changed_event(
                    viewer.account_id, conversation.id, conversation.inbox_id, current, cause=str(uuid.uuid4())
                )
            )
            add_events(session, events)
    await publish_staged(resources.sessionmaker, resources.bus, events)
    return service.conversation_out(conversation, explain=viewer.role in ("owner", "admin"), labels=current)


@router.post("/{conversation_id}/read", status_code=status.HTTP_204_NO_CONTENT)
async def mark_read(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, viewer: ViewerDep
) -> Response:
    """An agent read the conversation: its unread count starts again from zero."""
    async with atomic(session):
        await service.get_conversation(session, viewer, conversation_id)
        await session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(agent_last_seen_at=utcnow())
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{conversation_id}/messages", response_model=list[schemas.MessageOut])
async def list_messages(
    conversation_id: uuid.UUID,
    agent: CurrentAgent,
    session: SessionDep,
    viewer: ViewerDep,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[schemas.MessageOut]:
    """The whole timeline: customer, bot and agent messages and the agents' private notes (``private``)."""
    await service.get_conversation(session, viewer, conversation_id)
    rows = (
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
            .limit(limit)
        )
    ).all()
    return [service.message_out(m) for m in rows]


@router.post(
    "/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.MessageOut,
    responses=errors(not_found="no such conversation, or mentions name no agent of the account"),
)
async def reply(
    conversation_id: uuid.UUID,
    body: schemas.ReplyCreate | schemas.PrivateNoteCreate,
    agent: CurrentAgent,
    session: SessionDep,
    resources: ResourcesDep,
    viewer: ViewerDep,
) -> schemas.MessageOut:
    """A reply to the customer, or with ``private: true`` a note for the account's agents only (``@name``
    mentions notify those agents on their socket)."""
    async with atomic(session):
        conversation = await service.get_conversation(session, viewer, conversation_id)
        event: Event
        if isinstance(body, schemas.PrivateNoteCreate):
            mentions = await service.resolve_mentions(session, body.text, body.mentions)
            message, event = await service.create_note(
                session, conversation=conversation, author_id=agent.user_id, text=body.text, mentions=mentions
            )
        else:
            message, event = await service.create_agent_reply(
                session, conversation=conversation, agent_id=agent.user_id, text=body.text
            )
    # Committed with its event in the outbox: if Kafka is down now, the relay delivers it later.
    await publish_staged(resources.sessionmaker, resources.bus, [event])
    out = service.message_out(message)
    # A pass-through note keeps no text in the row; its author still sees what they wrote.
    return out.model_copy(update={"text": body.text}) if body.private else out
