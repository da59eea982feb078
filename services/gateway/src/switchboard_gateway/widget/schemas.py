"""Request and response bodies of the widget API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel
from switchboard_common.infra.inputs import Email, Name, text
from switchboard_common.infra.schemas import Strict

# The web inbox's widget_token (unknown tokens are a 404).
WidgetToken = Annotated[str, text(64, visible=False)]
ConsentVersion = Annotated[str, text(40)]
MessageText = Annotated[str, text(10000)]
ClientMessageId = Annotated[str, text(100)]


class ConsentGiven(Strict):
    version: ConsentVersion


class VisitorSessionCreate(Strict):
    widget_token: WidgetToken
    name: Name | None = None
    email: Email | None = None
    # Pre-chat consent the visitor accepted (the inbox's settings.consent.version); see docs/privacy.md.
    consent: ConsentGiven | None = None


class VisitorSessionOut(BaseModel):
    visitor_token: str
    contact_id: uuid.UUID


class VisitorMessageCreate(Strict):
    text: MessageText
    # The client's id for the message: a retry with the same id is accepted once (idempotency key).
    client_message_id: ClientMessageId | None = None


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
