from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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


class ReplyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=10000)
