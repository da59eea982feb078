from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

RequestType = Literal["erasure", "access", "rectification"]
RequestStatus = Literal["received", "verified", "in_progress", "completed", "failed"]


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Literal["web", "slack", "messenger", "api"]
    external_id: str = Field(min_length=1, max_length=255)


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    contact_id: uuid.UUID | None = None
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _some_identifier(self) -> SubjectIn:
        if not (self.email or self.phone or self.contact_id or self.identities):
            raise ValueError("subject needs at least one of email, phone, contact_id, identities")
        return self


AttributeValue = Annotated[str, StringConstraints(max_length=500)] | int | float | bool | None


class ChangesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    # Custom attributes to correct (a value) or remove (null); others keep theirs.
    custom_attributes: (
        dict[Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[\w.-]+$")], AttributeValue]
        | None
    ) = Field(default=None, max_length=50)
    # Agents' notes about the person to correct (note id -> new text) or remove (null).
    contact_notes: dict[uuid.UUID, Annotated[str, StringConstraints(min_length=1, max_length=5000)] | None] | None = (
        Field(default=None, max_length=100)
    )


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: RequestType
    subject: SubjectIn
    changes: ChangesIn | None = None

    @model_validator(mode="after")
    def _changes_for_rectification(self) -> RequestIn:
        if self.type == "rectification" and not (self.changes and self.changes.model_dump(exclude_none=True)):
            raise ValueError("a rectification needs changes")
        return self


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
