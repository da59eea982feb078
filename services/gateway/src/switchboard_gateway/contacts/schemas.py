"""Request and response bodies of the contacts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MAX_ATTRIBUTES = 50
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w.-]+$")]
# A value is a short scalar: text, number or yes/no. ``null`` removes the attribute.
AttributeValue = Annotated[str, StringConstraints(max_length=500)] | int | float | bool | None


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


class ContactUpdate(BaseModel):
    """Attributes to set (``null`` removes one); attributes not named keep their value."""

    model_config = ConfigDict(extra="forbid")

    custom_attributes: dict[AttributeKey, AttributeValue] = Field(max_length=MAX_ATTRIBUTES)

    @field_validator("custom_attributes")
    @classmethod
    def _no_nul(cls, value: dict[str, Any]) -> dict[str, Any]:
        if any(isinstance(v, str) and "\x00" in v for v in value.values()):
            raise ValueError("values may not contain NUL")
        return value


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=5000)


class NoteOut(BaseModel):
    id: uuid.UUID
    contact_id: uuid.UUID
    author_id: uuid.UUID | None
    text: str
    created_at: datetime
