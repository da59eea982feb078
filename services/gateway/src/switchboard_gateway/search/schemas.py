"""Response bodies of the search API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class MessageHit(BaseModel):
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    contact_id: uuid.UUID
    contact_name: str | None
    inbox_id: uuid.UUID
    channel: str
    status: str
    assignee_id: uuid.UUID | None
    direction: str
    sender_type: str
    sender_id: uuid.UUID | None
    private: bool
    language: str | None
    created_at: datetime
    rank: float
    # The best passage, HTML-escaped, matched words in <mark>…</mark> (safe to insert as HTML).
    highlight: str
    # The same passage as plain text.
    snippet: str


class ContactHit(BaseModel):
    contact_id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    custom_attributes: dict[str, object]
    rank: float


class HitPage(BaseModel, Generic[T]):
    total: int
    items: list[T]


class SearchOut(BaseModel):
    query: str
    page: int
    per_page: int
    messages: HitPage[MessageHit]
    contacts: HitPage[ContactHit]
