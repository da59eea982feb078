"""Request and response bodies of the canned responses API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints
from switchboard_common.infra.inputs import omittable, text
from switchboard_common.infra.schemas import Strict

# What follows the slash in the reply box (``/refund``): letters, digits, ``-`` and ``_``.
ShortCode = Annotated[str, StringConstraints(to_lower=True, min_length=1, max_length=50, pattern=r"^[\w-]+$")]
Content = Annotated[str, text(5000)]


class CannedResponseCreate(Strict):
    short_code: ShortCode
    content: Content


class CannedResponseUpdate(Strict):
    """Fields left out keep their value."""

    short_code: ShortCode = omittable()
    content: Content = omittable()


class CannedResponseOut(BaseModel):
    id: uuid.UUID
    short_code: str
    content: str
    created_by: uuid.UUID | None
    created_at: datetime
    # The content with ``{{contact.name}}`` and ``{{agent.name}}`` filled in, when asked for a conversation.
    rendered: str | None = None
