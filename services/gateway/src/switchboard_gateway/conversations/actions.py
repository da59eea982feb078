"""Conversation actions: assign, claim, accept/reject an offer, transfer, unassign, resolve, reopen, snooze.

Each is a transition of the conversation lifecycle (``switchboard_common.domain.conversations.lifecycle``),
run under the same per-account lock as the router (``routing.lock_account``), so capacity holds against
routing decisions on any replica, and of several agents claiming one conversation exactly one wins (the
others get 409). The change and its event commit together (outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Account, Team, User
from switchboard_common.domain.conversations import lifecycle, routing, visibility
from switchboard_common.domain.conversations.models import Conversation
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.infra.db import atomic
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.outbox import add_events, publish_staged

from switchboard_gateway.conversations import schemas, service
from switchboard_gateway.conversations.schemas import AssignRequest, SnoozeRequest, TransferRequest
from switchboard_gateway.deps import AgentPrincipal, CurrentAgent, ResourcesDep, SessionDep

router = APIRouter(prefix="/api/v1/conversations", tags=["conversation actions"])
MAX_SNOOZE = timedelta(days=365)


def _is_admin(agent: AgentPrincipal) -> bool:
    return agent.role in ("owner", "admin")


async def _locked(session: AsyncSession, agent: AgentPrincipal, conversation_id: uuid.UUID) -> Conversation:
    # What the agent may not see does not exist for them (visibility): no action on it either.
    viewer = await visibility.load_viewer(session, agent)
    await routing.lock_account(session, agent.account_id)
    return await service.get_conversation(session, viewer, conversation_id, for_update=True)


async def _out(session: AsyncSession, agent: AgentPrincipal, conversation: Conversation) -> schemas.ConversationOut:
    position = None
    if conversation.status == "open" and conversation.assignee_id is None:
        position = (await routing.queue_positions(session, agent.account_id)).get(conversation.id)
    return service.conversation_out(conversation, explain=_is_admin(agent), queue_position=position)


class Context:
    """What a transition may need besides the conversation: loads, weights, the inbox's settings."""

    def __init__(self, session: AsyncSession, conversation: Conversation, account: Account | None) -> None:
        self.session = session
        self.conversation = conversation
        self.account = account
        self.now = utcnow()
        self.weight = routing.weight_of(conversation, account)

    async def room(self, agent_id: uuid.UUID) -> lifecycle.AgentRoom:
        target = await self.session.scalar(
            select(User).where(
                User.id == agent_id, User.account_id == self.conversation.account_id, User.deleted_at.is_(None)
            )
        )
        if self.account is None or target is None:
            raise AppError(404, "not_found", "agent not found")
        return await routing.agent_room(self.session, self.account, agent_id, target.max_conversations)

    async def first_response_seconds(self) -> float:
        inbox = await self.session.get(Inbox, self.conversation.inbox_id)
        return float(routing.inbox_routing(inbox).get("first_response_seconds") or 0)


Transition = Callable[[lifecycle.Conversation, "Context"], Awaitable[lifecycle.Outcome]]


async def _act(
    session: AsyncSession,
    resources: ResourcesDep,
    agent: AgentPrincipal,
    conversation_id: uuid.UUID,
    transition: Transition,
    *,
    note: str | None = None,
) -> schemas.ConversationOut:
    """Runs one lifecycle transition under the account lock; stores and announces its outcome."""
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        context = Context(session, conversation, await session.get(Account, conversation.account_id))
        state = await routing.load_state(session, conversation)
        try:
            outcome = await transition(state, context)
        except lifecycle.Refused as refused:
            raise AppError(refused.status, refused.code, refused.message, details=refused.details) from None
        if not outcome.changed:
            return await _out(session, agent, conversation)
        events = await routing.apply_outcome(session, conversation, outcome)
        add_events(session, events)
        if note:
            # A note written on assign or transfer stays in the timeline as a private note for the next agent.
            _message, note_event = await service.create_note(
                session, conversation=conversation, author_id=agent.user_id, text=note, mentions=[]
            )
            events.append(note_event)
        await session.commit()
    await publish_staged(resources.sessionmaker, resources.bus, events)
    return await _out(session, agent, conversation)


async def _give_to(
    state: lifecycle.Conversation, context: Context, target_id: uuid.UUID, *, reason: str, note: str | None
) -> lifecycle.Outcome:
    return lifecycle.assign(
        state,
        await context.room(target_id),
        weight=context.weight,
        now=context.now,
        strategy="manual",
        explanation={"strategy": "manual", "outcome": reason, "chosen": str(target_id)},
        reason=reason,
        note=note,
        first_response_seconds=await context.first_response_seconds(),
    )


@router.post("/{conversation_id}/assign", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def assign(
    conversation_id: uuid.UUID, body: AssignRequest, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Assigns to an agent (admins: anyone; agents: themselves), within the agent's capacity."""
    if body.agent_id != agent.user_id and not _is_admin(agent):
        raise AppError(403, "forbidden", "only an admin can assign to someone else")
    reason = "assigned_by_admin" if body.agent_id != agent.user_id else "self_assigned"

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        return await _give_to(state, context, body.agent_id, reason=reason, note=body.note)

    return await _act(session, resources, agent, conversation_id, transition, note=body.note)


@router.post("/{conversation_id}/claim", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def claim(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Takes a waiting conversation (manual mode). Of concurrent claims exactly one wins; the rest get 409."""

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        if state.status != "open" or state.assignee_id is not None:
            raise AppError(409, "not_claimable", "the conversation is not waiting in the queue")
        if state.offer is not None and state.offer.agent_id != agent.user_id:
            raise AppError(409, "not_claimable", "the conversation is offered to another agent")
        return await _give_to(state, context, agent.user_id, reason="claimed", note=None)

    return await _act(session, resources, agent, conversation_id, transition)


@router.post("/{conversation_id}/accept", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def accept_offer(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        return lifecycle.accept(
            state,
            await context.room(agent.user_id),
            weight=context.weight,
            now=context.now,
            first_response_seconds=await context.first_response_seconds(),
        )

    return await _act(session, resources, agent, conversation_id, transition)


@router.post("/{conversation_id}/reject", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def reject_offer(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Declines an offer: the router offers the conversation to the next agent; the refusal is recorded."""

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        return lifecycle.reject(state, agent.user_id, now=context.now)

    return await _act(session, resources, agent, conversation_id, transition)


@router.post("/{conversation_id}/transfer", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def transfer(
    conversation_id: uuid.UUID, body: TransferRequest, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Hands the conversation to another agent, or back to routing within a team, with a note."""

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        if state.assignee_id != agent.user_id and not _is_admin(agent):
            raise AppError(403, "forbidden", "only the assignee or an admin can transfer")
        if body.agent_id is not None:
            return await _give_to(state, context, body.agent_id, reason="transfer", note=body.note)
        team = await session.scalar(select(Team).where(Team.id == body.team_id, Team.account_id == agent.account_id))
        if team is None:
            raise AppError(404, "not_found", "team not found")
        return lifecycle.transfer_to_team(state, team.id, now=context.now, actor_id=agent.user_id, note=body.note)

    return await _act(session, resources, agent, conversation_id, transition, note=body.note)


@router.post("/{conversation_id}/unassign", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def unassign(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        return lifecycle.unassign_by(state, now=context.now, actor_id=agent.user_id, admin=_is_admin(agent))

    return await _act(session, resources, agent, conversation_id, transition)


@router.post("/{conversation_id}/resolve", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def resolve(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Resolved conversations free the agent's capacity; the contact's next message opens a new one."""

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        return lifecycle.resolve(state, now=context.now, actor_id=agent.user_id)

    return await _act(session, resources, agent, conversation_id, transition)


@router.post("/{conversation_id}/pending", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def set_pending(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Waiting on the customer: the agent keeps it; the customer's next message makes it open again."""

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        return lifecycle.set_pending(state, now=context.now, actor_id=agent.user_id)

    return await _act(session, resources, agent, conversation_id, transition)


@router.post("/{conversation_id}/snooze", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def snooze(
    conversation_id: uuid.UUID, body: SnoozeRequest, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Snoozes until a time (then open again); a customer message wakes it earlier."""
    now = utcnow()
    until: datetime = body.until
    if not now < until <= now + MAX_SNOOZE:
        raise AppError(422, "invalid_snooze", "until must be in the future, within a year")

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        return lifecycle.snooze(state, until, now=context.now, actor_id=agent.user_id)

    return await _act(session, resources, agent, conversation_id, transition)


@router.post("/{conversation_id}/reopen", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def reopen(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Open again. A resolved one keeps its agent if they have room, else it goes back to routing."""

    async def transition(state: lifecycle.Conversation, context: Context) -> lifecycle.Outcome:
        newer = None
        if state.status == "resolved":
            newer = await session.scalar(
                select(Conversation.id).where(
                    Conversation.inbox_id == state.inbox_id,
                    Conversation.contact_id == state.contact_id,
                    Conversation.status != "resolved",
                    Conversation.id != state.id,
                )
            )
        keep = None
        if state.assignee_id is not None:
            try:
                keep = await context.room(state.assignee_id)
            except AppError:
                keep = None  # the agent is gone
        return lifecycle.reopen(
            state, now=context.now, actor_id=agent.user_id, assignee=keep, weight=context.weight, newer_open=newer
        )

    return await _act(session, resources, agent, conversation_id, transition)
