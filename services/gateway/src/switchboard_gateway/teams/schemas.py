"""Request and response bodies of the teams API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field
from switchboard_common.infra.inputs import Name, omittable
from switchboard_common.infra.schemas import Strict

Strategy = Literal["least_busy", "round_robin", "sticky", "manual"]


class TeamCreate(Strict):
    name: Name
    # None: the inbox's or account's strategy.
    strategy: Strategy | None = None
    members: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class TeamUpdate(Strict):
    """Fields left out keep their value; strategy null goes back to the inbox's or account's strategy."""

    name: Name = omittable()
    strategy: Strategy | None = None


class TeamOut(BaseModel):
    id: uuid.UUID
    name: str
    strategy: str | None
    members: list[uuid.UUID]
