"""Conversation actions: assign, claim, accept/reject an offer, transfer, unassign, resolve, reopen, snooze.

Each runs under the same per-account lock as the router (``routing.lock_account``), so capacity holds
against routing decisions on any replica, and of several agents claiming one conversation exactly one wins
(the others get 409). The change and its event commit together (outbox).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common import routing
from switchboard_common.db import atomic
from switchboard_common.db.base import utcnow
from switchboard_common.db.models import Account, Conversation, Inbox, Message, Team, User
from switchboard_common.errors import AppError
from switchboard_common.events import (
    ConversationStatusChanged,
    ConversationStatusPayload,
    ConversationUnassigned,
    ConversationUnassignedPayload,
    Event,
)
from switchboard_common.outbox import add_events, publish_staged

from switchboard_gateway.conversations import schemas, service
from switchboard_gateway.deps import AgentPrincipal, CurrentAgent, ResourcesDep, SessionDep

router = APIRouter(prefix="/api/v1/conversations", tags=["conversation actions"])
MAX_SNOOZE = timedelta(days=365)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssignRequest(Strict):
    agent_id: uuid.UUID
    note: str | None = Field(default=None, max_length=2000)


class TransferRequest(Strict):
    agent_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one_target(self) -> TransferRequest:
        if (self.agent_id is None) == (self.team_id is None):
            raise ValueError("give exactly one of agent_id or team_id")
        return self


class SnoozeRequest(Strict):
    until: AwareDatetime


class NoteRequest(Strict):
    note: str | None = Field(default=None, max_length=2000)


def _is_admin(agent: AgentPrincipal) -> bool:
    return agent.role in ("owner", "admin")


async def _locked(session: AsyncSession, agent: AgentPrincipal, conversation_id: uuid.UUID) -> Conversation:
    await routing.lock_account(session, agent.account_id)
    return await service.get_conversation(session, agent.account_id, conversation_id, for_update=True)


async def _out(session: AsyncSession, agent: AgentPrincipal, conversation: Conversation) -> schemas.ConversationOut:
    position = None
    if conversation.status == "open" and conversation.assignee_id is None:
        position = (await routing.queue_positions(session, agent.account_id)).get(conversation.id)
    return service.conversation_out(conversation, explain=_is_admin(agent), queue_position=position)


def _status_event(conversation: Conversation, status: str, actor: AgentPrincipal) -> ConversationStatusChanged:
    return ConversationStatusChanged(
        tenant_id=conversation.account_id,
        conversation_id=conversation.id,
        payload=ConversationStatusPayload(
            inbox_id=conversation.inbox_id,
            status=status,  # type: ignore[arg-type]
            actor_id=actor.user_id,
        ),
    )


async def _give_to(
    session: AsyncSession,
    conversation: Conversation,
    target_id: uuid.UUID,
    *,
    reason: str,
    note: str | None,
    offered: bool = False,
) -> Event:
    if conversation.status == "resolved":
        raise AppError(409, "conversation_resolved", "reopen the conversation first")
    account = await session.get(Account, conversation.account_id)
    target = await session.scalar(
        select(User).where(User.id == target_id, User.account_id == conversation.account_id, User.deleted_at.is_(None))
    )
    if account is None or target is None:
        raise AppError(404, "not_found", "agent not found")
    if conversation.assignee_id == target_id:
        raise AppError(409, "already_assigned", "the conversation is already assigned to this agent")
    if not await routing.has_capacity(session, account, target, conversation, already_counted=offered):
        raise AppError(409, "agent_at_capacity", "the agent has no free capacity")
    inbox = await session.get(Inbox, conversation.inbox_id)
    config = routing.inbox_routing(inbox)
    return await routing.assign(
        session,
        conversation,
        target_id,
        strategy="manual",
        explanation={"strategy": "manual", "outcome": reason, "chosen": str(target_id)},
        reason=reason,
        note=note,
        first_response_seconds=float(config.get("first_response_seconds") or 0),
    )


def _store_note(session: AsyncSession, conversation: Conversation, author: AgentPrincipal, note: str | None) -> None:
    """A note written on assign or transfer stays in the timeline as a private message for the next agent."""
    if not note:
        return
    session.add(
        Message(
            id=uuid.uuid4(),
            account_id=conversation.account_id,
            conversation_id=conversation.id,
            direction="outbound",
            sender_type="agent",
            sender_id=author.user_id,
            text=note,
            attachments=[],
            private=True,
            created_at=utcnow(),
        )
    )


async def _commit_and_publish(
    session: AsyncSession, resources: ResourcesDep, agent: AgentPrincipal, conversation: Conversation, events: list
) -> schemas.ConversationOut:
    add_events(session, events)
    await session.commit()
    await publish_staged(resources.sessionmaker, resources.bus, events)
    return await _out(session, agent, conversation)


@router.post("/{conversation_id}/assign", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def assign(
    conversation_id: uuid.UUID, body: AssignRequest, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Assigns to an agent (admins: anyone; agents: themselves), within the agent's capacity."""
    if body.agent_id != agent.user_id and not _is_admin(agent):
        raise AppError(403, "forbidden", "only an admin can assign to someone else")
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        offer = await routing.pending_offer(session, conversation.id)
        event = await _give_to(
            session,
            conversation,
            body.agent_id,
            reason="assigned_by_admin" if body.agent_id != agent.user_id else "self_assigned",
            note=body.note,
            offered=offer is not None and offer.agent_id == body.agent_id,
        )
        _store_note(session, conversation, agent, body.note)
        return await _commit_and_publish(session, resources, agent, conversation, [event])


@router.post("/{conversation_id}/claim", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def claim(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Takes a waiting conversation (manual mode). Of concurrent claims exactly one wins; the rest get 409."""
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        if conversation.status != "open" or conversation.assignee_id is not None:
            raise AppError(409, "not_claimable", "the conversation is not waiting in the queue")
        offer = await routing.pending_offer(session, conversation.id)
        if offer is not None and offer.agent_id != agent.user_id:
            raise AppError(409, "not_claimable", "the conversation is offered to another agent")
        event = await _give_to(
            session, conversation, agent.user_id, reason="claimed", note=None, offered=offer is not None
        )
        return await _commit_and_publish(session, resources, agent, conversation, [event])


@router.post("/{conversation_id}/accept", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def accept_offer(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        offer = await routing.pending_offer(session, conversation.id)
        if offer is None or offer.agent_id != agent.user_id or conversation.assignee_id is not None:
            raise AppError(409, "no_offer", "there is no pending offer of this conversation to you")
        event = await _give_to(session, conversation, agent.user_id, reason="offer_accepted", note=None, offered=True)
        return await _commit_and_publish(session, resources, agent, conversation, [event])


@router.post("/{conversation_id}/reject", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def reject_offer(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Declines an offer: the router offers the conversation to the next agent; the refusal is recorded."""
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        offer = await routing.pending_offer(session, conversation.id)
        if offer is None or offer.agent_id != agent.user_id or conversation.assignee_id is not None:
            raise AppError(409, "no_offer", "there is no pending offer of this conversation to you")
        await routing.cancel_timers(session, conversation.id, ("offer",))
        await routing.record(session, conversation, "offer_rejected", agent.user_id)
        conversation.assignment_version += 1
        event = ConversationUnassigned(
            event_id=routing.decision_event_id(conversation, "offer_rejected"),
            tenant_id=conversation.account_id,
            conversation_id=conversation.id,
            payload=ConversationUnassignedPayload(
                agent_id=agent.user_id, inbox_id=conversation.inbox_id, reason="offer_rejected", actor_id=agent.user_id
            ),
        )
        return await _commit_and_publish(session, resources, agent, conversation, [event])


@router.post("/{conversation_id}/transfer", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def transfer(
    conversation_id: uuid.UUID, body: TransferRequest, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Hands the conversation to another agent, or back to routing within a team, with a note."""
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        if conversation.assignee_id != agent.user_id and not _is_admin(agent):
            raise AppError(403, "forbidden", "only the assignee or an admin can transfer")
        if body.agent_id is not None:
            event = await _give_to(session, conversation, body.agent_id, reason="transfer", note=body.note)
        else:
            team = await session.scalar(
                select(Team).where(Team.id == body.team_id, Team.account_id == agent.account_id)
            )
            if team is None:
                raise AppError(404, "not_found", "team not found")
            if conversation.status == "resolved":
                raise AppError(409, "conversation_resolved", "reopen the conversation first")
            conversation.queued_at = None
            event = await routing.unassign(
                session,
                conversation,
                reason="transfer_to_team",
                actor_id=agent.user_id,
                note=body.note,
                team_id=team.id,
            )
        _store_note(session, conversation, agent, body.note)
        return await _commit_and_publish(session, resources, agent, conversation, [event])


@router.post("/{conversation_id}/unassign", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def unassign(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        if conversation.assignee_id is None:
            raise AppError(409, "not_assigned", "the conversation has no assignee")
        if conversation.assignee_id != agent.user_id and not _is_admin(agent):
            raise AppError(403, "forbidden", "only the assignee or an admin can unassign")
        conversation.queued_at = None
        event = await routing.unassign(session, conversation, reason="manual", actor_id=agent.user_id)
        return await _commit_and_publish(session, resources, agent, conversation, [event])


@router.post("/{conversation_id}/resolve", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def resolve(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Resolved conversations free the agent's capacity; the contact's next message opens a new one."""
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        if conversation.status == "resolved":
            return await _out(session, agent, conversation)
        conversation.status = "resolved"
        conversation.snoozed_until = None
        await routing.cancel_timers(session, conversation.id, routing.TIMER_KINDS)
        await routing.record(session, conversation, "resolved", agent.user_id)
        return await _commit_and_publish(
            session, resources, agent, conversation, [_status_event(conversation, "resolved", agent)]
        )


@router.post("/{conversation_id}/pending", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def set_pending(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Waiting on the customer: the agent keeps it; the customer's next message makes it open again."""
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        if conversation.status not in ("open", "snoozed"):
            raise AppError(409, "invalid_status", f"a {conversation.status} conversation cannot become pending")
        conversation.status = "pending"
        await routing.cancel_timers(session, conversation.id, ("snooze", "no_reply"))
        return await _commit_and_publish(
            session, resources, agent, conversation, [_status_event(conversation, "pending", agent)]
        )


@router.post("/{conversation_id}/snooze", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def snooze(
    conversation_id: uuid.UUID, body: SnoozeRequest, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Snoozes until a time (then open again); a customer message wakes it earlier."""
    now = utcnow()
    until: datetime = body.until
    if not now < until <= now + MAX_SNOOZE:
        raise AppError(422, "invalid_snooze", "until must be in the future, within a year")
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        if conversation.status not in ("open", "pending", "snoozed"):
            raise AppError(409, "invalid_status", f"a {conversation.status} conversation cannot be snoozed")
        conversation.status = "snoozed"
        conversation.snoozed_until = until
        await routing.cancel_timers(session, conversation.id, ("no_reply", "offer"))
        await routing.schedule_timer(session, conversation, "snooze", until)
        return await _commit_and_publish(
            session, resources, agent, conversation, [_status_event(conversation, "snoozed", agent)]
        )


@router.post("/{conversation_id}/reopen", response_model=schemas.ConversationOut, response_model_exclude_none=True)
async def reopen(
    conversation_id: uuid.UUID, agent: CurrentAgent, session: SessionDep, resources: ResourcesDep
) -> schemas.ConversationOut:
    """Open again. A resolved one keeps its agent if they have room, else it goes back to routing."""
    async with atomic(session):
        conversation = await _locked(session, agent, conversation_id)
        if conversation.status == "open":
            return await _out(session, agent, conversation)
        if conversation.status == "resolved":
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
            account = await session.get(Account, conversation.account_id)
            assignee = await session.get(User, conversation.assignee_id) if conversation.assignee_id else None
            if (
                account is None
                or assignee is None
                or not await routing.has_capacity(session, account, assignee, conversation)
            ):
                conversation.assignee_id = None
                conversation.assignment_version += 1
        conversation.status = "open"
        conversation.snoozed_until = None
        conversation.queued_at = None
        await routing.cancel_timers(session, conversation.id, ("snooze",))
        await routing.record(session, conversation, "reopened", agent.user_id)
        return await _commit_and_publish(
            session, resources, agent, conversation, [_status_event(conversation, "open", agent)]
        )
