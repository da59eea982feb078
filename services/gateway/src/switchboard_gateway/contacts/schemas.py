"""Request and response bodies of the contacts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from switchboard_common.infra.inputs import Bool, Float, Int, text
from switchboard_common.infra.schemas import Strict

MAX_ATTRIBUTES = 50
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w.-]+$")]
# A value is a short scalar: text, number or yes/no (JSON's own types: "3" stays text, true is no number).
# ``null`` removes the attribute.
AttributeValue = Annotated[str, text(500, min_length=0, visible=False)] | Int | Float | Bool | None
NoteText = Annotated[str, text(5000)]


class IdentityOut(BaseModel):
    channel: str
    external_id: str
    created_at: datetime


class ContactOut(BaseModel):
    id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    last_seen_at: datetime | None
    created_at: datetime
    identities: list[IdentityOut]
    conversation_count: int
    # Free-form attributes the account keeps (plan, order number).
    custom_attributes: dict[str, Any] = Field(default_factory=dict)


class ContactUpdate(Strict):
    """Attributes to set (``null`` removes one); attributes not named keep their value."""

    custom_attributes: dict[AttributeKey, AttributeValue] = Field(max_length=MAX_ATTRIBUTES)


class NoteCreate(Strict):
    text: NoteText


class NoteOut(BaseModel):
    id: uuid.UUID
    contact_id: uuid.UUID
    author_id: uuid.UUID | None
    text: str
    created_at: datetime
