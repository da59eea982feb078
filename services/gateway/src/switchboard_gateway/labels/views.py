"""The account's labels: ``POST/GET /api/v1/labels``, ``PATCH/DELETE /api/v1/labels/{id}``. Any agent reads
them and puts them on conversations (``PUT /api/v1/conversations/{id}/labels``); admins define them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from switchboard_common.domain.conversations.ingest import labels_changed_event
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.labels.models import ConversationLabel, Label
from switchboard_common.domain.labels.queries import labels_by_conversation
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors, provides
from switchboard_common.infra.outbox import add_events, publish_staged

from switchboard_gateway.deps import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_gateway.labels.schemas import LabelCreate, LabelOut, LabelUpdate

router = APIRouter(prefix="/api/v1/labels", tags=["labels"])
MAX_LABELS = 500


def _out(label: Label, count: int = 0) -> LabelOut:
    return LabelOut(
        id=label.id,
        name=label.name,
        color=label.color,
        description=label.description,
        created_at=label.created_at,
        conversation_count=count,
    )


async def _label(session: SessionDep, label_id: uuid.UUID) -> Label:
    label = await session.scalar(select(Label).where(Label.id == label_id))
    if label is None:
        raise AppError(404, "not_found", "label not found")
    return label


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LabelOut,
    responses=errors(conflict="label_exists, or too_many_labels"),
    openapi_extra=provides(label_id="$response.body#/id"),
)
async def create_label(body: LabelCreate, admin: AdminAgent, session: SessionDep) -> LabelOut:
    async with atomic(session):
        count = await session.scalar(select(func.count()).select_from(Label))
        if (count or 0) >= MAX_LABELS:
            raise AppError(409, "too_many_labels", f"an account has at most {MAX_LABELS} labels")
        label = Label(
            id=uuid.uuid4(),
            account_id=admin.account_id,
            name=body.name,
            color=body.color.lower(),
            description=body.description,
            created_at=utcnow(),
        )
        session.add(label)
        try:
            await session.flush()
        except IntegrityError:
            raise AppError(409, "label_exists", "a label with this name exists") from None
    return _out(label)


@router.get("", response_model=list[LabelOut], openapi_extra=provides(label_id="$response.body#/0/id"))
async def list_labels(agent: CurrentAgent, session: SessionDep) -> list[LabelOut]:
    counts = select(ConversationLabel.label_id, func.count().label("n")).group_by(ConversationLabel.label_id).subquery()
    rows = await session.execute(
        select(Label, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.label_id == Label.id)
        .order_by(Label.name)
    )
    return [_out(label, int(n)) for label, n in rows.all()]


@router.patch("/{label_id}", response_model=LabelOut)
async def update_label(label_id: uuid.UUID, body: LabelUpdate, admin: AdminAgent, session: SessionDep) -> LabelOut:
    async with atomic(session):
        label = await _label(session, label_id)
        changes = body.model_dump(exclude_unset=True)
        if changes.get("color"):
            label.color = changes["color"].lower()
        if "description" in changes:
            label.description = changes["description"]
    return _out(label)


@router.delete("/{label_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_label(
    label_id: uuid.UUID, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> Response:
    """Removes the label from every conversation too; the unresolved ones announce their labels now
    (``conversation.labels_changed``: a label SLA policy stops applying to them)."""
    async with atomic(session):
        label = await _label(session, label_id)
        carrying = (
            await session.execute(
                select(Conversation.id, Conversation.inbox_id)
                .join(ConversationLabel, ConversationLabel.conversation_id == Conversation.id)
                .where(ConversationLabel.label_id == label.id, Conversation.status != "resolved")
            )
        ).all()
        await session.delete(label)
        await session.flush()
        now = await labels_by_conversation(session, [row.id for row in carrying])
        events = [
            labels_changed_event(admin.account_id, row.id, row.inbox_id, now.get(row.id, []), cause=str(uuid.uuid4()))
            for row in carrying
        ]
        add_events(session, events)
    await publish_staged(resources.sessionmaker, resources.bus, events)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
