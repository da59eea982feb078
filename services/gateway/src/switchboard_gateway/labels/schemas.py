"""Request and response bodies of the labels API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints
from switchboard_common.infra.inputs import omittable, text
from switchboard_common.infra.schemas import Strict

# Lower-case, no spaces or commas: a label is named in filters (``?label=billing``) and routing rules.
# No whitespace, comma or NUL. Whitespace spelled out (what Python's str.isspace() counts): "\s" means other
# characters in the schema's regex dialect (ECMA-262: not U+001C-U+001F or U+0085, but U+FEFF), and a generated
# client or fuzzer reading the schema must get the answer the API gives.
LABEL_PATTERN = r"^[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000,\x00]+$"
LabelName = Annotated[str, StringConstraints(to_lower=True, min_length=1, max_length=50, pattern=LABEL_PATTERN)]
Color = Annotated[str, StringConstraints(max_length=7, pattern=r"^#[0-9a-fA-F]{6}$")]
Description = Annotated[str, text(200, min_length=0, visible=False)]


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
