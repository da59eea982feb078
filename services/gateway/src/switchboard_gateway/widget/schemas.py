"""Request and response bodies of the widget API."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, EmailStr, Field
from switchboard_common.infra.schemas import Strict


class ConsentGiven(Strict):
    version: str = Field(min_length=1, max_length=40)


class SessionCreate(Strict):
    widget_token: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    # Pre-chat consent the visitor accepted (the inbox's settings.consent.version); see docs/privacy.md.
    consent: ConsentGiven | None = None


class SessionOut(BaseModel):
    visitor_token: str
    contact_id: uuid.UUID


class VisitorMessageCreate(Strict):
    text: str = Field(min_length=1, max_length=10000)
    client_message_id: str | None = Field(default=None, min_length=1, max_length=100)


class VisitorMessageAccepted(BaseModel):
    message_id: uuid.UUID
    conversation_id: uuid.UUID


class VisitorMessageOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    direction: str
    sender_type: str
    text: str | None
    created_at: Any
