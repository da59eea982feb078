"""Request and response bodies of the presence API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict


class PresenceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["online", "away", "offline"]


class PresenceOut(BaseModel):
    agent_id: uuid.UUID
    status: str
