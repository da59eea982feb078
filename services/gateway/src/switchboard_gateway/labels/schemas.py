"""Request and response bodies of the labels API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints
from switchboard_common.infra.inputs import omittable, text
from switchboard_common.infra.schemas import Strict

# Lower-case, no spaces or commas: a label is named in filters (``?label=billing``) and routing rules.
LABEL_PATTERN = r"^[^\s,\x00]+$"
LabelName = Annotated[str, StringConstraints(to_lower=True, min_length=1, max_length=50, pattern=LABEL_PATTERN)]
Color = Annotated[str, StringConstraints(max_length=7, pattern=r"^#[0-9a-fA-F]{6}$")]
Description = text(200, min_length=0, visible=False)


class LabelCreate(Strict):
    name: LabelName
    color: Color = "#6b7280"
    description: Description | None = None


class LabelUpdate(Strict):
    """Fields left out keep their value; ``description: null`` clears it."""

    color: Color = omittable()
    description: Description | None = None


class LabelOut(BaseModel):
    id: uuid.UUID
    name: str
    color: str
    description: str | None
    created_at: datetime
    conversation_count: int = 0
