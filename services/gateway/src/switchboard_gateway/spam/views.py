"""Agents teach the account's spam filter: marking a conversation spam hides it from routing and learns
its customer messages as spam; marking it not spam routes it again and learns them as ham."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy import select
from switchboard_common.domain.conversations import commands
from switchboard_common.domain.conversations.models import Conversation, Message
from switchboard_common.domain.spam import classifier
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError

from switchboard_gateway.conversations import schemas, service
from switchboard_gateway.deps import CurrentAgent, ResourcesDep, SessionDep, ViewerDep
from switchboard_gateway.spam.schemas import SpamVerdict

router = APIRouter(prefix="/api/v1/conversations", tags=["spam"])


@router.post("/{conversation_id}/spam", response_model=schemas.ConversationOut)
async def mark_spam(
    conversation_id: uuid.UUID,
    body: SpamVerdict,
    agent: CurrentAgent,
    session: SessionDep,
    resources: ResourcesDep,
    viewer: ViewerDep,
) -> schemas.ConversationOut:
    # Spam leaves the agent's load at once; "not spam" goes back to routing as a fresh conversation: a status
    # change of the lifecycle, made by the account's routing writer like every change of who holds what.
    await service.get_conversation(session, viewer, conversation_id)  # 404 for what the caller may not see
    await session.rollback()
    try:
        result = await commands.send(
            resources,
            agent.account_id,
            "spam" if body.spam else "not_spam",
            conversation_id=conversation_id,
            actor_id=agent.user_id,
            actor_admin=agent.role in ("owner", "admin"),
        )
    except commands.RoutingUnavailable:
        raise AppError(503, "routing_unavailable", "routing did not answer in time; try again") from None
    if not result.ok:
        raise AppError(result.status, result.code or "refused", result.message or "refused", details=result.details)
    if (result.data.get("previous_status") == "spam") != body.spam:
        async with atomic(session):
            texts = (
                await session.scalars(
                    select(Message.text).where(
                        Message.conversation_id == conversation_id,
                        Message.direction == "inbound",
                    )
                )
            ).all()
            await classifier.learn(session, agent.account_id, texts, resources.pseudonyms, spam=body.spam)
    # Read as committed, by id (the caller saw it above; the verdict may move it out of their view).
    conversation = await session.scalar(select(Conversation).where(Conversation.id == conversation_id))
    if conversation is None:
        raise AppError(404, "not_found", "conversation not found")  # erased meanwhile
    return service.conversation_out(conversation)


@router.post("/{conversation_id}/not-spam", response_model=schemas.ConversationOut)
async def mark_not_spam(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep, viewer: ViewerDep
) -> schemas.ConversationOut:
    return await mark_spam(conversation_id, SpamVerdict(spam=False), agent, session, resources, viewer)
