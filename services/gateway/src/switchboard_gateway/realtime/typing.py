"""Typing indicators: ephemeral frames relayed between a visitor's and the assigned agent's sockets.

They skip Kafka and the database on purpose (nothing to keep); at most one frame per sender and
conversation every two seconds reaches the other side.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.conversations.visibility import load_viewer, visible
from switchboard_common.infra.runtime import Resources

from switchboard_gateway.deps import AgentPrincipal, VisitorPrincipal

THROTTLE_SECONDS = 2


async def _throttled(resources: Resources, sender: str, conversation_id: uuid.UUID) -> bool:
    key = resources.keys.typing(conversation_id, sender)
    return not await resources.redis.set(key, "1", nx=True, ex=THROTTLE_SECONDS)


async def relay_visitor_typing(resources: Resources, visitor: VisitorPrincipal) -> None:
    async with tenant_session(resources.sessionmaker, visitor.account_id) as session:
        row = (
            await session.execute(
                select(Conversation.id, Conversation.assignee_id)
                .where(
                    Conversation.contact_id == visitor.contact_id,
                    Conversation.inbox_id == visitor.inbox_id,
                    Conversation.status != "resolved",
                )
                .order_by(Conversation.created_at.desc())
                .limit(1)
            )
        ).first()
    if row is None or row.assignee_id is None or await _throttled(resources, "visitor", row.id):
        return
    frame = {"type": "typing", "from": "visitor", "conversation_id": str(row.id)}
    await resources.streams.push_once(resources.keys.agent_stream(row.assignee_id), uuid.uuid4().hex, frame)


async def relay_agent_typing(resources: Resources, agent: AgentPrincipal, message: dict[str, Any]) -> None:
    try:
        conversation_id = uuid.UUID(str(message.get("conversation_id")))
    except ValueError:
        return
    async with tenant_session(resources.sessionmaker, agent.account_id) as session:
        # Only for a conversation the agent may see (visibility): typing must not probe the others.
        viewer = await load_viewer(session, agent)
        contact_id = await session.scalar(
            select(Conversation.contact_id).where(Conversation.id == conversation_id, visible(viewer))
        )
    if contact_id is None or await _throttled(resources, "agent", conversation_id):
        return
    frame = {"type": "typing", "from": "agent", "conversation_id": str(conversation_id)}
    await resources.streams.push_once(resources.keys.contact_stream(contact_id), uuid.uuid4().hex, frame)
