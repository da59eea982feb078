"""Satisfaction surveys: ``/api/v1/inboxes/{id}/csat`` (settings) and ``POST /api/v1/widget/csat`` (the
visitor's answer to the ``csat.request`` frame their socket received)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy import select
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.csat import surveys
from switchboard_common.domain.csat.models import CsatSurvey
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.outbox import add_events, publish_staged

from switchboard_gateway.csat.schemas import CsatAnswer, CsatOut, CsatSettings, CsatSettingsOut
from switchboard_gateway.deps import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_gateway.widget.cors import WidgetVisitor

router = APIRouter(prefix="/api/v1", tags=["csat"])


async def _inbox(session: SessionDep, inbox_id: uuid.UUID) -> Inbox:
    inbox = await session.scalar(select(Inbox).where(Inbox.id == inbox_id))
    if inbox is None:
        raise AppError(404, "not_found", "inbox not found")
    return inbox


def _out(inbox: Inbox) -> CsatSettingsOut:
    config = surveys.settings_of(inbox.settings)
    return CsatSettingsOut(
        **CsatSettings.model_validate(config).model_dump(), effective_question=surveys.question_of(config)
    )


@router.get("/inboxes/{inbox_id}/csat", response_model=CsatSettingsOut)
async def get_csat_settings(inbox_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> CsatSettingsOut:
    return _out(await _inbox(session, inbox_id))


@router.put("/inboxes/{inbox_id}/csat", response_model=CsatSettingsOut)
async def put_csat_settings(
    inbox_id: uuid.UUID, body: CsatSettings, admin: AdminAgent, session: SessionDep
) -> CsatSettingsOut:
    async with atomic(session):
        inbox = await _inbox(session, inbox_id)
        inbox.settings = {**(inbox.settings or {}), "csat": body.model_dump()}
        return _out(inbox)


@router.post("/widget/csat", response_model=CsatOut)
async def answer_csat(
    body: CsatAnswer, visitor: WidgetVisitor, session: SessionDep, resources: ResourcesDep
) -> CsatOut:
    """The visitor rates their conversation (1-5, optional comment); answering again within a day replaces
    the answer, and the same answer twice changes nothing."""
    async with atomic(session):
        owned = await session.scalar(
            select(Conversation.id).where(
                Conversation.id == body.conversation_id,
                Conversation.contact_id == visitor.contact_id,
                Conversation.inbox_id == visitor.inbox_id,
            )
        )
        if owned is None:
            raise AppError(404, "not_found", "conversation not found")
        survey = await session.scalar(
            select(CsatSurvey).where(CsatSurvey.conversation_id == body.conversation_id).with_for_update()
        )
        event = surveys.record_answer(
            survey, contact_id=visitor.contact_id, rating=body.rating, comment=body.comment, at=utcnow()
        )
        if event is not None:
            add_events(session, [event])
        assert survey is not None and survey.rating is not None and survey.answered_at is not None
        out = CsatOut(
            conversation_id=survey.conversation_id,
            rating=survey.rating,
            comment=survey.comment,
            answered_at=survey.answered_at,
        )
    if event is not None:
        await publish_staged(resources.sessionmaker, resources.bus, [event])
    return out
