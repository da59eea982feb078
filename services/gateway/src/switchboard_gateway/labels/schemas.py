"""Request and response bodies of the labels API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Lower-case, no spaces or commas: a label is named in filters (``?label=billing``) and routing rules.
LabelName = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50, pattern=r"^[^\s,]+$")
]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


class LabelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: LabelName
    color: Color = "#6b7280"
    description: str | None = Field(default=None, max_length=200)


class LabelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    color: Color | None = None
    description: str | None = Field(default=None, max_length=200)


class LabelOut(BaseModel):
    id: uuid.UUID
    name: str
    color: str
    description: str | None
    created_at: datetime
    conversation_count: int = 0
