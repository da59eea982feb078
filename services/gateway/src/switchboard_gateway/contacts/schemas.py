"""Response bodies of the contacts API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel


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
