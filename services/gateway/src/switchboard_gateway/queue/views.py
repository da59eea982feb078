"""``GET /api/v1/queue``: waiting conversations in the order they will be served, with positions."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from sqlalchemy import select
from switchboard_common.domain.conversations import routing
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.conversations.visibility import visible
from switchboard_common.infra.openapi import provides

from switchboard_gateway.deps import CurrentAgent, SessionDep, ViewerDep
from switchboard_gateway.queue.schemas import QueueEntry

router = APIRouter(prefix="/api/v1/queue", tags=["queue"])


@router.get(
    "",
    response_model=list[QueueEntry],
    openapi_extra=provides(
        conversation_id="$response.body#/0/conversation_id", contact_id="$response.body#/0/contact_id"
    ),
)
async def list_queue(
    agent: CurrentAgent,
    session: SessionDep,
    inbox_id: uuid.UUID | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    *,
    viewer: ViewerDep,
) -> list[QueueEntry]:
    rows = (
        await session.scalars(select(Conversation).where(*routing.queued_filter()).order_by(*routing.QUEUE_ORDER))
    ).all()
    # Positions count the whole queue; the caller is shown only the entries they may see.
    shown = None
    if not viewer.sees_all:
        shown = set(await session.scalars(select(Conversation.id).where(*routing.queued_filter(), visible(viewer))))
    entries = []
    for index, c in enumerate(rows):
        if inbox_id is not None and c.inbox_id != inbox_id:
            continue
        if shown is not None and c.id not in shown:
            continue
        entries.append(
            QueueEntry(
                position=index + 1,
                conversation_id=c.id,
                inbox_id=c.inbox_id,
                contact_id=c.contact_id,
                team_id=c.team_id,
                channel=c.channel,
                priority=c.priority,
                waiting_since=c.queued_at or c.created_at,
                reason=(c.routing_explanation or {}).get("outcome"),
            )
        )
        if len(entries) >= limit:
            break
    return entries
