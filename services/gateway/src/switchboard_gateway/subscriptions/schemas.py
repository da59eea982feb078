"""Request and response bodies of the account webhooks API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from switchboard_common.domain.subscriptions.events import SubscribableEvent
from switchboard_common.infra.inputs import Bool, HttpUrl, omittable
from switchboard_common.infra.schemas import Strict


class SubscriptionCreate(Strict):
    url: HttpUrl
    events: list[SubscribableEvent] = Field(min_length=1, max_length=10)


class SubscriptionUpdate(Strict):
    """Fields left out keep their value. Enabling again resets the failure count."""

    url: HttpUrl = omittable()
    events: list[SubscribableEvent] = omittable(min_length=1, max_length=10)
    enabled: Bool = omittable()


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    secret: str | None = None  # shown once, at creation


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from its row

    id: int
    event_id: uuid.UUID
    event_type: str
    conversation_id: uuid.UUID | None
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    completed_at: datetime | None
    next_attempt_at: datetime | None

    @model_validator(mode="after")
    def _next_attempt_only_while_pending(self) -> DeliveryOut:
        # A delivered or abandoned row keeps its last schedule; it is no next attempt.
        if self.status != "pending":
            self.next_attempt_at = None
        return self
