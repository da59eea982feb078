"""Request and response bodies of the presence API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel
from switchboard_common.infra.schemas import Strict


class PresenceUpdate(Strict):
    status: Literal["online", "away", "offline"]


class PresenceOut(BaseModel):
    agent_id: uuid.UUID
    status: str
