"""Conversation actions: assign, claim, accept/reject an offer, transfer, unassign, resolve, reopen, snooze.

Each is a command to the account's routing writer (the router replica that alone writes the account's
routing state, docs/routing.md), which applies the lifecycle transition in order with every routing decision:
capacity always holds, and of several agents claiming one conversation exactly one wins (the others get 409).
The API answers with the committed outcome; a writer that does not answer in time yields 503 (the command
expires: it will not happen later).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Team
from switchboard_common.domain.conversations import commands, routing, visibility
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.events import RoutingAction
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors
from switchboard_common.infra.outbox import publish_staged

from switchboard_gateway.conversations import schemas, service
from switchboard_gateway.conversations.schemas import (
    MAX_SNOOZE,
    AssignRequest,
    SnoozeFor,
    SnoozeUntil,
    TransferToAgent,
    TransferToTeam,
)
from switchboard_gateway.deps import AgentPrincipal, CurrentAgent, ResourcesDep, SessionDep

router = APIRouter(prefix="/api/v1/conversations", tags=["conversation actions"])


def _is_admin(agent: AgentPrincipal) -> bool:
    return agent.role in ("owner", "admin")


async def _out(session: AsyncSession, agent: AgentPrincipal, conversation: Conversation) -> schemas.ConversationOut:
    position = None
    if conversation.status == "open" and conversation.assignee_id is None:
        position = (await routing.queue_positions(session, agent.account_id)).get(conversation.id)
    return service.conversation_out(conversation, explain=_is_admin(agent), queue_position=position)


async def _act(
    session: AsyncSession,
    resources: ResourcesDep,
    agent: AgentPrincipal,
    conversation_id: uuid.UUID,
    action: RoutingAction,
    *,
    note: str | None = None,
    **fields: Any,
) -> schemas.ConversationOut:
    """Asks the account's routing writer to apply the action; answers with the conversation as committed."""
    # What the agent may not see does not exist for them (visibility): no action on it either.
    viewer = await visibility.load_viewer(session, agent)
    await service.get_conversation(session, viewer, conversation_id)  # 404 before any command
    await session.rollback()  # no transaction held while the writer works; the next read sees its commit
    try:
        result = await commands.send(
            resources,
            agent.account_id,
            action,
            conversation_id=conversation_id,
            actor_id=agent.user_id,
            actor_admin=_is_admin(agent),
            note=note,
            **fields,
        )
    except commands.RoutingUnavailable:
        raise AppError(503, "routing_unavailable", "routing did not answer in time; try again") from None
    if not result.ok:
        raise AppError(result.status, result.code or "refused", result.message or "refused", details=result.details)
    # Read as committed, by id: a transfer may leave it outside what the caller sees from now on.
    conversation = await session.scalar(select(Conversation).where(Conversation.id == conversation_id))
    if conversation is None:
        raise AppError(404, "not_found", "conversation not found")  # erased meanwhile
    if note:
        # A note written on assign or transfer stays in the timeline as a private note for the next agent.
        async with atomic(session):
            _message, note_event = await service.create_note(
                session, conversation=conversation, author_id=agent.user_id, text=note, mentions=[]
            )
        await publish_staged(resources.sessionmaker, resources.bus, [note_event])
    return await _out(session, agent, conversation)


@router.post(
    "/{conversation_id}/assign",
    response_model=schemas.ConversationOut,
    responses=errors(
        forbidden="only an admin can assign to someone else",
        conflict="conversation_resolved, already_assigned or agent_at_capacity",
    ),
)
async def assign(
    conversation_id: uuid.UUID, body: AssignRequest, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Assigns to an agent (admins: anyone; agents: themselves), within the agent's capacity."""
    if body.agent_id != agent.user_id and not _is_admin(agent):
        raise AppError(403, "forbidden", "only an admin can assign to someone else")
    return await _act(session, resources, agent, conversation_id, "assign", agent_id=body.agent_id, note=body.note)


@router.post(
    "/{conversation_id}/claim",
    response_model=schemas.ConversationOut,
    responses=errors(conflict="not_claimable (not waiting, or offered to another agent) or agent_at_capacity"),
)
async def claim(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Takes a waiting conversation (manual mode). Of concurrent claims exactly one wins; the rest get 409."""
    return await _act(session, resources, agent, conversation_id, "claim")


@router.post(
    "/{conversation_id}/accept",
    response_model=schemas.ConversationOut,
    responses=errors(conflict="no_offer: no pending offer of this conversation to you; or agent_at_capacity"),
)
async def accept_offer(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    return await _act(session, resources, agent, conversation_id, "accept")


@router.post(
    "/{conversation_id}/reject",
    response_model=schemas.ConversationOut,
    responses=errors(conflict="no_offer: no pending offer of this conversation to you"),
)
async def reject_offer(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Declines an offer: the router offers the conversation to the next agent; the refusal is recorded."""
    return await _act(session, resources, agent, conversation_id, "reject")


@router.post(
    "/{conversation_id}/transfer",
    response_model=schemas.ConversationOut,
    responses=errors(
        forbidden="only the assignee or an admin can transfer",
        conflict="conversation_resolved, already_assigned or agent_at_capacity",
    ),
)
async def transfer(
    conversation_id: uuid.UUID,
    body: TransferToAgent | TransferToTeam,
    agent: CurrentAgent,
    session: SessionDep,
    resources: ResourcesDep,
) -> schemas.ConversationOut:
    """Hands the conversation to another agent, or back to routing within a team, with a note."""
    if isinstance(body, TransferToTeam):
        team = await session.scalar(select(Team.id).where(Team.id == body.team_id))
        if team is None:
            raise AppError(404, "not_found", "team not found")
    return await _act(
        session,
        resources,
        agent,
        conversation_id,
        "transfer",
        agent_id=body.agent_id if isinstance(body, TransferToAgent) else None,
        team_id=body.team_id if isinstance(body, TransferToTeam) else None,
        note=body.note,
    )


@router.post(
    "/{conversation_id}/unassign",
    response_model=schemas.ConversationOut,
    responses=errors(forbidden="only the assignee or an admin can unassign", conflict="not_assigned"),
)
async def unassign(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    return await _act(session, resources, agent, conversation_id, "unassign")


@router.post("/{conversation_id}/resolve", response_model=schemas.ConversationOut)
async def resolve(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Resolved conversations free the agent's capacity; the contact's next message opens a new one."""
    return await _act(session, resources, agent, conversation_id, "resolve")


@router.post(
    "/{conversation_id}/pending",
    response_model=schemas.ConversationOut,
    responses=errors(conflict="invalid_status: only open or snoozed conversations become pending"),
)
async def set_pending(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Waiting on the customer: the agent keeps it; the customer's next message makes it open again."""
    return await _act(session, resources, agent, conversation_id, "pending")


@router.post(
    "/{conversation_id}/snooze",
    response_model=schemas.ConversationOut,
    responses=errors(
        conflict="invalid_status (a resolved conversation), or invalid_snooze: until has passed or is over a year away"
    ),
)
async def snooze(
    conversation_id: uuid.UUID,
    body: SnoozeUntil | SnoozeFor,
    agent: CurrentAgent,
    session: SessionDep,
    resources: ResourcesDep,
) -> schemas.ConversationOut:
    """Snoozes until a time, or for a number of seconds (then open again); a customer message wakes it earlier."""
    now = utcnow()
    until: datetime = body.until if isinstance(body, SnoozeUntil) else now + timedelta(seconds=body.seconds)
    if not now < until <= now + MAX_SNOOZE:
        # 409, not 422: the request is well formed; it conflicts with the present, which its schema cannot know.
        raise AppError(409, "invalid_snooze", "until must be in the future, within a year")
    return await _act(session, resources, agent, conversation_id, "snooze", until=until)


@router.post(
    "/{conversation_id}/reopen",
    response_model=schemas.ConversationOut,
    responses=errors(conflict="newer_conversation_open: the contact has a newer open conversation"),
)
async def reopen(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Open again. A resolved one keeps its agent if they have room, else it goes back to routing."""
    return await _act(session, resources, agent, conversation_id, "reopen")
