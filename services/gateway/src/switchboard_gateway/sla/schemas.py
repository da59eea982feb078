"""Request and response bodies of the SLA policies API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from switchboard_common.infra.inputs import Bool, Int, Name, integer, omittable
from switchboard_common.infra.schemas import Strict

from switchboard_gateway.labels.schemas import LabelName

# A week at most per target: longer promises are not service levels.
MAX_SECONDS = 90 * 24 * 3600
Seconds = Annotated[int, integer(1, MAX_SECONDS)]
PauseStatus = Literal["pending", "snoozed"]
DEFAULT_PAUSE_STATUSES: tuple[PauseStatus, ...] = ("pending", "snoozed")
_TARGETS = ("first_response_seconds", "next_response_seconds", "resolution_seconds")


class PolicyFields(Strict):
    first_response_seconds: Seconds | None = None
    next_response_seconds: Seconds | None = None
    resolution_seconds: Seconds | None = None
    business_hours_only: Bool = False
    # The clocks stop while the conversation is in these statuses.
    pause_statuses: list[PauseStatus] = Field(default_factory=lambda: list(DEFAULT_PAUSE_STATUSES), max_length=2)
    # A breach raises the conversation's queue priority by this much (0: not at all).
    raise_priority: Int = Field(default=0, ge=0, le=100)
    # What it applies to (the most specific wins: label, then team, then inbox).
    inbox_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=500)
    labels: list[LabelName] = Field(default_factory=list, max_length=500)


class PolicyCreate(PolicyFields):
    """At least one of the three targets (the schema's anyOf; the validator below checks it)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": [f], "properties": {f: {"type": "integer"}}} for f in _TARGETS]}
    )

    name: Name

    @model_validator(mode="after")
    def _some_target(self) -> PolicyCreate:
        if not (self.first_response_seconds or self.next_response_seconds or self.resolution_seconds):
            raise ValueError("set at least one of first_response_seconds, next_response_seconds, resolution_seconds")
        return self


class PolicyUpdate(Strict):
    """Fields given replace the stored ones (a target's null clears it; a policy keeps at least one, else 409);
    targets given as lists replace what the policy applies to; fields left out keep their value."""

    name: Name = omittable()
    first_response_seconds: Seconds | None = None
    next_response_seconds: Seconds | None = None
    resolution_seconds: Seconds | None = None
    business_hours_only: Bool = omittable()
    pause_statuses: list[PauseStatus] = omittable(max_length=2)
    raise_priority: Int = omittable(ge=0, le=100)
    inbox_ids: list[uuid.UUID] = omittable(max_length=500)
    team_ids: list[uuid.UUID] = omittable(max_length=500)
    labels: list[LabelName] = omittable(max_length=500)


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
