"""Request and response bodies of the canned responses API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# What follows the slash in the reply box (``/refund``): letters, digits, ``-`` and ``_``.
ShortCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50, pattern=r"^[\w-]+$")
]


class CannedResponseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    short_code: ShortCode
    content: str = Field(min_length=1, max_length=5000)


class CannedResponseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    short_code: ShortCode | None = None
    content: str | None = Field(default=None, min_length=1, max_length=5000)


class CannedResponseOut(BaseModel):
    id: uuid.UUID
    short_code: str
    content: str
    created_by: uuid.UUID | None
    created_at: datetime
    # The content with ``{{contact.name}}`` and ``{{agent.name}}`` filled in, when asked for a conversation.
    rendered: str | None = None
