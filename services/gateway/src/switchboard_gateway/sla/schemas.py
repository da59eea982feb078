"""Request and response bodies of the SLA policies API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A week at most per target: longer promises are not service levels.
MAX_SECONDS = 90 * 24 * 3600
Seconds = int | None
PauseStatus = Literal["pending", "snoozed"]
DEFAULT_PAUSE_STATUSES: tuple[PauseStatus, ...] = ("pending", "snoozed")


class PolicyFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_response_seconds: Seconds = Field(default=None, ge=1, le=MAX_SECONDS)
    next_response_seconds: Seconds = Field(default=None, ge=1, le=MAX_SECONDS)
    resolution_seconds: Seconds = Field(default=None, ge=1, le=MAX_SECONDS)
    business_hours_only: bool = False
    # The clocks stop while the conversation is in these statuses.
    pause_statuses: list[PauseStatus] = Field(default_factory=lambda: list(DEFAULT_PAUSE_STATUSES), max_length=2)
    # A breach raises the conversation's queue priority by this much (0: not at all).
    raise_priority: int = Field(default=0, ge=0, le=100)
    # What it applies to (the most specific wins: label, then team, then inbox).
    inbox_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    labels: list[str] = Field(default_factory=list, max_length=500)


class PolicyCreate(PolicyFields):
    name: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _some_target(self) -> PolicyCreate:
        if not (self.first_response_seconds or self.next_response_seconds or self.resolution_seconds):
            raise ValueError("set at least one of first_response_seconds, next_response_seconds, resolution_seconds")
        return self


class PolicyUpdate(BaseModel):
    """Fields given replace the stored ones; targets given as lists replace what the policy applies to."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    first_response_seconds: Seconds = Field(default=None, ge=1, le=MAX_SECONDS)
    next_response_seconds: Seconds = Field(default=None, ge=1, le=MAX_SECONDS)
    resolution_seconds: Seconds = Field(default=None, ge=1, le=MAX_SECONDS)
    business_hours_only: bool | None = None
    pause_statuses: list[PauseStatus] | None = Field(default=None, max_length=2)
    raise_priority: int | None = Field(default=None, ge=0, le=100)
    inbox_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    team_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    labels: list[str] | None = Field(default=None, max_length=500)


class PolicyOut(BaseModel):
    id: uuid.UUID
    name: str
    first_response_seconds: int | None
    next_response_seconds: int | None
    resolution_seconds: int | None
    business_hours_only: bool
    pause_statuses: list[str]
    raise_priority: int
    inbox_ids: list[uuid.UUID]
    team_ids: list[uuid.UUID]
    labels: list[str]
    created_at: datetime
    updated_at: datetime
