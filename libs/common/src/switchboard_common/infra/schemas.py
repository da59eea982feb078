"""The base of every request body the services accept."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown fields are refused (a 422 names them) and surrounding whitespace is stripped from strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
