"""Reading the channels' JSON payloads, which arrive untyped and sometimes malformed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def object_field(payload: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The field ``key`` when it is a JSON object, else an empty one (absent, null or of another type)."""
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def message_text(value: Any) -> str | None:
    """A customer's text as an event keeps it: a string without NUL characters (PostgreSQL's text cannot hold
    them and the event schema removes them), or None when it is not a string or nothing is left. A message of
    NULs alone is no text, so it is not published as an empty message."""
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "") or None
