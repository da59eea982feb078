"""Conversation lifecycle actions by agents: resolve and reopen (the full set grows with the router issue)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy import select
from switchboard_common.db import atomic
from switchboard_common.db.base import utcnow
from switchboard_common.db.models import Conversation
from switchboard_common.errors import AppError
from switchboard_common.events import ConversationStatusChanged, ConversationStatusPayload
from switchboard_common.outbox import add_events, publish_staged

from switchboard_gateway.conversations import schemas, service
from switchboard_gateway.deps import AgentPrincipal, CurrentAgent, ResourcesDep, SessionDep

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


async def _change_status(
    conversation_id: uuid.UUID, status: str, agent: AgentPrincipal, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    async with atomic(session):
        conversation = await service.get_conversation(session, agent.account_id, conversation_id, for_update=True)
        if conversation.status == status:
            return service.conversation_out(conversation)
        if status == "open":
            other = await session.scalar(
                select(Conversation.id).where(
                    Conversation.inbox_id == conversation.inbox_id,
                    Conversation.contact_id == conversation.contact_id,
                    Conversation.status != "resolved",
                    Conversation.id != conversation.id,
                )
            )
            if other is not None:
                raise AppError(
                    409,
                    "newer_conversation_open",
                    "the contact has a newer open conversation",
                    details={"conversation_id": str(other)},
                )
        conversation.status = status
        conversation.updated_at = utcnow()
        event = ConversationStatusChanged(
            tenant_id=conversation.account_id,
            conversation_id=conversation.id,
            payload=ConversationStatusPayload(
                inbox_id=conversation.inbox_id,
                status=status,  # type: ignore[arg-type]
                actor_id=agent.user_id,
            ),
        )
        add_events(session, [event])
    await publish_staged(resources.sessionmaker, resources.bus, [event])
    return service.conversation_out(conversation)


@router.post("/{conversation_id}/resolve", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def resolve(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Resolved conversations free the agent's capacity; the contact's next message opens a new one."""
    return await _change_status(conversation_id, "resolved", agent, session, resources)


@router.post("/{conversation_id}/reopen", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def reopen(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    return await _change_status(conversation_id, "open", agent, session, resources)
