"""Request and response bodies of the spam API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpamVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spam: bool = True
