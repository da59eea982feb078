from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from switchboard_common.infra.inputs import Int, Timestamp, text
from switchboard_common.infra.schemas import Strict

from switchboard_gateway.labels.schemas import LabelName

MessageText = Annotated[str, text(10000)]
Note = Annotated[str, text(2000, min_length=0, visible=False)]
MAX_SNOOZE = timedelta(days=365)


class LastMessageOut(BaseModel):
    """The newest message customers and agents exchanged (not notes), shortened for a list."""

    text: str | None
    direction: Literal["inbound", "outbound"]
    sender_type: str
    created_at: datetime


class ConversationOut(BaseModel):
    id: uuid.UUID
    status: str
    assignee_id: uuid.UUID | None
    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    channel: str
    priority: int
    created_at: datetime
    last_message_at: datetime | None
    queue_position: int | None = None
    routing_explanation: dict[str, Any] | None = None
    queued_at: datetime | None = None
    team_id: uuid.UUID | None = None
    previous_conversation_id: uuid.UUID | None = None
    # For lists (GET /api/v1/conversations): who writes, what was said last, since when the customer waits
    # for an answer (open conversations whose newest message is the customer's), and how many of the
    # customer's messages arrived since an agent last read it (POST .../{id}/read).
    contact_name: str | None = None
    last_message: LastMessageOut | None = None
    waiting_since: datetime | None = None
    unread_count: int | None = None
    # Names of the labels it carries (``PUT /api/v1/conversations/{id}/labels``), sorted.
    labels: list[str] = Field(default_factory=list)
    # Service level (docs/reports.md): {policy_id, first_response_due_at, next_response_due_at,
    # resolution_due_at, paused, breached: [{target, due_at, cycle}]}; due times null when met or paused.
    sla: dict[str, Any] | None = None
    # The customer's rating once answered: {rating, comment, answered_at}.
    csat: dict[str, Any] | None = None


class MessageOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    direction: Literal["inbound", "outbound"]
    sender_type: str
    sender_id: uuid.UUID | None
    text: str | None
    attachments: list[dict[str, Any]]
    delivery_status: str | None
    delivery_error: str | None
    created_at: datetime
    # A note for the account's agents: never shown or sent to the customer. ``sender_id`` is its author.
    private: bool = False
    # Agents a note mentions (``@name``): each was told on their socket.
    mentions: list[uuid.UUID] = Field(default_factory=list)


class ReplyCreate(Strict):
    """A reply, sent to the customer."""

    text: MessageText
    private: Literal[False] = False


class PrivateNoteCreate(Strict):
    """A private note: stored for the account's agents, never sent to the customer."""

    text: MessageText
    private: Literal[True]
    # Agents to notify, besides those named ``@name`` in the text (ids of the account's agents, else a 404).
    mentions: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class LabelsUpdate(Strict):
    labels: list[LabelName] = Field(max_length=50)


class AssignRequest(Strict):
    agent_id: uuid.UUID
    note: Note | None = None


class TransferToAgent(Strict):
    agent_id: uuid.UUID
    note: Note | None = None


class TransferToTeam(Strict):
    """Back to routing, among the team's agents."""

    team_id: uuid.UUID
    note: Note | None = None


class SnoozeUntil(Strict):
    until: Timestamp = Field(
        description="In the future, at most 365 days ahead, by the server's clock (else 409 invalid_snooze)"
    )


class SnoozeFor(Strict):
    seconds: Int = Field(ge=1, le=int(MAX_SNOOZE.total_seconds()))
