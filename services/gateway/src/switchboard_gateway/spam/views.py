"""Agents teach the account's spam filter: marking a conversation spam hides it from routing and learns
its customer messages as spam; marking it not spam routes it again and learns them as ham."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy import select
from switchboard_common.domain.conversations.models import Message
from switchboard_common.domain.events import ConversationStatusChanged, ConversationStatusPayload
from switchboard_common.domain.spam import classifier
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.outbox import add_events, publish_staged

from switchboard_gateway.conversations import schemas, service
from switchboard_gateway.deps import CurrentAgent, ResourcesDep, SessionDep, ViewerDep
from switchboard_gateway.spam.schemas import SpamVerdict

router = APIRouter(prefix="/api/v1/conversations", tags=["spam"])


@router.post("/{conversation_id}/spam", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def mark_spam(
    conversation_id: uuid.UUID,
    body: SpamVerdict,
    agent: CurrentAgent,
    session: SessionDep,
    resources: ResourcesDep,
    viewer: ViewerDep,
) -> schemas.ConversationOut:
    events = []
    async with atomic(session):
        conversation = await service.get_conversation(session, viewer, conversation_id, for_update=True)
        was_spam = conversation.status == "spam"
        if body.spam != was_spam:
            texts = (
                await session.scalars(
                    select(Message.text).where(
                        Message.conversation_id == conversation.id,
                        Message.account_id == agent.account_id,
                        Message.direction == "inbound",
                    )
                )
            ).all()
            await classifier.learn(session, agent.account_id, texts, resources.pseudonyms, spam=body.spam)
            # Spam leaves the agent's load at once; "not spam" goes back to routing as a fresh conversation.
            conversation.status = "spam" if body.spam else "open"
            if not body.spam:
                conversation.assignee_id = None
            conversation.updated_at = utcnow()
            events.append(
                ConversationStatusChanged(
                    tenant_id=conversation.account_id,
                    conversation_id=conversation.id,
                    payload=ConversationStatusPayload(
                        inbox_id=conversation.inbox_id,
                        status=conversation.status,  # type: ignore[arg-type]
                        actor_id=agent.user_id,
                    ),
                )
            )
            add_events(session, events)
    await publish_staged(resources.sessionmaker, resources.bus, events)
    return service.conversation_out(conversation)


@router.post("/{conversation_id}/not-spam", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def mark_not_spam(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep, viewer: ViewerDep
) -> schemas.ConversationOut:
    return await mark_spam(conversation_id, SpamVerdict(spam=False), agent, session, resources, viewer)
