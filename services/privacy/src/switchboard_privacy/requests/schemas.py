from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from switchboard_common.infra.inputs import Bool, Float, Int, Name, text
from switchboard_common.infra.schemas import Strict

RequestType = Literal["erasure", "access", "rectification"]
RequestStatus = Literal["received", "verified", "in_progress", "completed", "failed"]


Channel = Literal["web", "slack", "messenger", "api"]
ExternalId = Annotated[str, text(255)]
SubjectEmail = Annotated[str, text(320)]
Phone = Annotated[str, text(40)]


def _at_least_one(*fields: str) -> dict[str, Any]:
    """The JSON Schema form of "at least one of these fields, not null" (the model validators below check it)."""
    return {"anyOf": [{"required": [f], "properties": {f: {"not": {"type": "null"}}}} for f in fields]}


class IdentityIn(Strict):
    channel: Channel
    external_id: ExternalId


class SubjectIn(Strict):
    """Who the request is about: at least one identifier (contacts matching any of them are found)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                *_at_least_one("email", "phone", "contact_id")["anyOf"],
                {"required": ["identities"], "properties": {"identities": {"minItems": 1}}},
            ]
        }
    )

    email: SubjectEmail | None = None
    phone: Phone | None = None
    contact_id: uuid.UUID | None = None
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _some_identifier(self) -> SubjectIn:
        if self.email is None and self.phone is None and self.contact_id is None and not self.identities:
            raise ValueError("subject needs at least one of email, phone, contact_id, identities")
        return self


# A custom attribute's value (null removes it).
AttributeValue = Annotated[str, text(500, min_length=0, visible=False)] | Int | Float | Bool | None
AttributeName = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w.-]+$")]
NoteText = Annotated[str, text(5000)]


class ChangesIn(Strict):
    """The corrected values: at least one; fields left out or null stay as they are."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                *_at_least_one("name", "email", "phone")["anyOf"],
                {"required": ["custom_attributes"], "properties": {"custom_attributes": {"minProperties": 1}}},
                {"required": ["contact_notes"], "properties": {"contact_notes": {"minProperties": 1}}},
            ]
        }
    )

    name: Name | None = None
    email: SubjectEmail | None = None
    phone: Phone | None = None
    # Custom attributes to correct (a value) or remove (null); others keep theirs.
    custom_attributes: dict[AttributeName, AttributeValue] | None = Field(default=None, max_length=50)
    # Agents' notes about the person to correct (note id -> new text) or remove (null).
    contact_notes: dict[uuid.UUID, NoteText | None] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _some_change(self) -> ChangesIn:
        if not (
            self.name is not None
            or self.email is not None
            or self.phone is not None
            or self.custom_attributes
            or self.contact_notes
        ):
            raise ValueError("a rectification needs changes")
        return self


class ErasureRequestIn(Strict):
    type: Literal["erasure"]
    subject: SubjectIn


class AccessRequestIn(Strict):
    type: Literal["access"]
    subject: SubjectIn


class RectificationRequestIn(Strict):
    type: Literal["rectification"]
    subject: SubjectIn
    changes: ChangesIn


RequestIn = Annotated[ErasureRequestIn | AccessRequestIn | RectificationRequestIn, Field(discriminator="type")]


class RequestCreated(BaseModel):
    id: uuid.UUID
    status: RequestStatus
    due_at: datetime


class RequestOut(BaseModel):
    id: uuid.UUID
    type: RequestType
    status: RequestStatus
    created_at: datetime
    due_at: datetime
    verified_at: datetime | None
    completed_at: datetime | None
    overdue: bool
    progress: dict[str, Any]
    report: dict[str, Any]
    contacts_found: int
