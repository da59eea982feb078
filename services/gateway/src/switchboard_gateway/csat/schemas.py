"""Request and response bodies of the satisfaction survey API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "el", "hu", "sq"]


class CsatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    enabled: bool = False
    # The question in the inbox's language; null: the built-in question of ``language``.
    question: str | None = Field(default=None, min_length=1, max_length=500)
    language: Language = "en"
    # Minutes after the resolution (0: at once).
    delay_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60)


class CsatSettingsOut(CsatSettings):
    # The question the customer gets.
    effective_question: str


class CsatAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    conversation_id: uuid.UUID
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class CsatOut(BaseModel):
    conversation_id: uuid.UUID
    rating: int
    comment: str | None
    answered_at: datetime
