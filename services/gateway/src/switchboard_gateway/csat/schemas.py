"""Request and response bodies of the satisfaction survey API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from switchboard_common.infra.inputs import Bool, Int, integer, text
from switchboard_common.infra.schemas import Strict

Language = Literal["en", "el", "hu", "sq"]
Question = Annotated[str, text(500)]
Rating = Annotated[int, integer(1, 5)]
Comment = Annotated[str, text(2000, min_length=0, visible=False)]


class CsatSettings(Strict):
    enabled: Bool = False
    # The question in the inbox's language; null: the built-in question of ``language``.
    question: Question | None = None
    language: Language = "en"
    # Minutes after the resolution (0: at once).
    delay_minutes: Int = Field(default=0, ge=0, le=7 * 24 * 60)


class CsatSettingsOut(CsatSettings):
    # The question the customer gets.
    effective_question: str


class CsatAnswer(Strict):
    conversation_id: uuid.UUID
    rating: Rating
    comment: Comment | None = None


class CsatOut(BaseModel):
    conversation_id: uuid.UUID
    rating: int
    comment: str | None
    answered_at: datetime
