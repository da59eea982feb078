"""Response bodies of the queue API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


class QueueEntry(BaseModel):
    position: int
    conversation_id: uuid.UUID
    inbox_id: uuid.UUID
    contact_id: uuid.UUID
    team_id: uuid.UUID | None
    channel: str
    priority: int
    waiting_since: datetime
    reason: str | None
