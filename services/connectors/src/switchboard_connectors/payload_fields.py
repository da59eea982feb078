"""Reading the channels' JSON payloads, which arrive untyped and sometimes malformed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def object_field(payload: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The field ``key`` when it is a JSON object, else an empty one (absent, null or of another type)."""
    value = payload.get(key)
    return value if isinstance(value, dict) else {}
