"""Request and response bodies of the teams API."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Strategy = Literal["least_busy", "round_robin", "sticky", "manual"]


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    strategy: Strategy | None = None
    members: list[uuid.UUID] = Field(default_factory=list, max_length=1000)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    strategy: Strategy | None = None


class TeamOut(BaseModel):
    id: uuid.UUID
    name: str
    strategy: str | None
    members: list[uuid.UUID]
