from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from switchboard_common.infra.schemas import Strict


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


class ReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=10000)
    # A private note: stored for the account's agents, never sent to the customer.
    private: bool = False
    # Agents to notify, besides those named ``@name`` in the text (notes only).
    mentions: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class LabelsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[
        Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)]
    ] = Field(max_length=50)


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
