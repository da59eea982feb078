from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common import routing
from switchboard_common.db.models import Conversation, Inbox, Message
from switchboard_common.errors import AppError
from switchboard_common.events import Event, MessageCreated, MessageCreatedPayload, utcnow
from switchboard_common.outbox import add_events

from switchboard_gateway.conversations.schemas import ConversationOut, MessageOut


async def get_conversation(
    session: AsyncSession, account_id: uuid.UUID, conversation_id: uuid.UUID, *, for_update: bool = False
) -> Conversation:
    query = select(Conversation).where(Conversation.id == conversation_id, Conversation.account_id == account_id)
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
    conversation: Conversation, *, explain: bool = False, queue_position: int | None = None
) -> ConversationOut:
    return ConversationOut(
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
        direction=message.direction,  # type: ignore[arg-type]
        sender_type=message.sender_type,
        sender_id=message.sender_id,
        text=message.text,
        attachments=message.attachments or [],
        delivery_status=message.delivery_status,
        delivery_error=message.delivery_error,
        created_at=message.created_at,
    )


async def create_agent_reply(
    session: AsyncSession, *, conversation: Conversation, agent_id: uuid.UUID, text: str
) -> tuple[Message, Event]:
    """Stores the reply and stages its event in the same transaction (delivered by the connectors).

    In a pass-through inbox the text travels in the event only; the stored row keeps no content.
    """
    now = utcnow()
    inbox = await session.get(Inbox, conversation.inbox_id)
    store_content = not (inbox is not None and (inbox.settings or {}).get("pass_through"))
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
            channel=conversation.channel,  # type: ignore[arg-type]
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
